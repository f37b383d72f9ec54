"""The test database: its libpq URL, and a TCP proxy in front of it that can be cut (a real outage, not a mock)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from types import TracebackType

from sqlalchemy import URL

from lms_graphql.kit.db import DatabaseUrls


@dataclass(frozen=True)
class OwnedDatabaseUrls(DatabaseUrls):
    """A test database's URLs: the tests always hold its owner login."""

    owner: URL


class DatabaseProxy:
    def __init__(self, upstream: URL) -> None:
        self._upstream = upstream
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    @property
    def url(self) -> URL:
        """``upstream`` reached through the proxy."""
        return self._upstream.set(host="127.0.0.1", port=self.port, query={})

    async def _connect_upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        socket_dir = self._upstream.query.get("host")
        port = self._upstream.port or 5432
        if self._upstream.host is None and isinstance(socket_dir, str):
            return await asyncio.open_unix_connection(f"{socket_dir}/.s.PGSQL.{port}")
        return await asyncio.open_connection(self._upstream.host or "127.0.0.1", port)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await self._connect_upstream()
        self._writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def __aenter__(self) -> DatabaseProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def cut(self) -> None:
        """The database goes away: open connections drop, new ones are refused."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in self._writers:
            writer.close()
        self._writers.clear()

    async def restore(self) -> None:
        """The database is back, at the same address."""
        if self._server is None:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        await self.cut()


def libpq_url(url: URL) -> str:
    """The URL as psycopg (not SQLAlchemy) spells it."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)
