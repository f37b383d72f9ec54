"""The test database: its libpq URL, and a TCP proxy in front of it that can be cut (a real outage, not a mock)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType

import psycopg
from psycopg import sql
from sqlalchemy import URL

from lms_graphql.kit.db import DatabaseUrls
from lms_graphql.kit.homes import Home


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


@contextlib.contextmanager
def home_connection(owner: URL, home: Home) -> Iterator[psycopg.Connection]:
    """The owner's connection to a tenant's home: the pool, a bridge's schema (first on the
    search path) or a silo's database; autocommit, like owner_conn."""
    url = owner.set(database=home.database) if home.database else owner
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        if home.placement == "bridge":
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(home.schema)))
        yield conn


def drop_silo_databases(owner: URL) -> None:
    """The silo databases of the test database's tenants (they live beside it on the server)."""
    with psycopg.connect(libpq_url(owner), autocommit=True) as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM tenants WHERE placement = 'silo'")]
    server = owner.set(database="postgres")
    with psycopg.connect(libpq_url(server), autocommit=True) as conn:
        for tenant_id in ids:
            name = Home("silo", "main", tenant_id).database
            assert name is not None
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
