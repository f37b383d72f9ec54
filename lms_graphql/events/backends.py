"""Bus backends: broadcaster's memory backend, and ours for PostgreSQL and Redis.

Ours surface a lost connection as an exception from ``next_published`` (the hub reconnects
and tells subscribers to resync) instead of swallowing it. Both carry every logical channel
on one wire channel, the logical name inside the message, so subscribing is local.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import psycopg
from broadcaster import Event
from broadcaster._backends.base import BroadcastBackend
from broadcaster._backends.memory import MemoryBackend

from lms_graphql.kit.channels import WIRE_CHANNEL, pack


def _unpack(raw: str | bytes) -> Event:
    data = json.loads(raw)
    return Event(channel=data["c"], message=data["m"])


class PostgresNotifyBackend(BroadcastBackend):
    """LISTEN/NOTIFY over psycopg: one listening and one publishing connection."""

    def __init__(self, conninfo: str, wire_channel: str = WIRE_CHANNEL) -> None:
        self._conninfo = conninfo
        self._wire = wire_channel
        self._listen: psycopg.AsyncConnection[Any] | None = None
        self._publish: psycopg.AsyncConnection[Any] | None = None
        self._notifies: Any = None

    async def connect(self) -> None:
        try:
            self._listen = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
            await self._listen.execute(f"LISTEN {self._wire}")
            self._publish = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
        except BaseException:
            # Half connected (refused, or cancelled by a stop): close what opened rather than
            # leave it to the garbage collector.
            await asyncio.shield(self.disconnect())
            raise
        self._notifies = self._listen.notifies()

    async def disconnect(self) -> None:
        for connection in (self._listen, self._publish):
            if connection is not None:
                with contextlib.suppress(Exception):
                    await connection.close()
        self._listen = self._publish = self._notifies = None

    async def subscribe(self, channel: str) -> None:
        return None

    async def unsubscribe(self, channel: str) -> None:
        return None

    async def publish(self, channel: str, message: Any) -> None:
        if self._publish is None:
            raise ConnectionError("bus not connected")
        await self._publish.execute("SELECT pg_notify(%s, %s)", (self._wire, pack(channel, str(message))))

    async def next_published(self) -> Event:
        if self._notifies is None:
            raise ConnectionError("bus not connected")
        notify = await anext(self._notifies)
        return _unpack(notify.payload)

    @property
    def listener_pid(self) -> int | None:
        return self._listen.info.backend_pid if self._listen is not None else None


class RedisBackend(BroadcastBackend):
    """Redis pub/sub (redis-py): for several machines."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._client: Any = None
        self._pubsub: Any = None

    async def connect(self) -> None:
        from redis import asyncio as redis

        self._client = redis.Redis.from_url(self._url)
        self._pubsub = self._client.pubsub()
        await self._pubsub.subscribe(WIRE_CHANNEL)

    async def disconnect(self) -> None:
        with contextlib.suppress(Exception):
            if self._pubsub is not None:
                await self._pubsub.aclose()
        with contextlib.suppress(Exception):
            if self._client is not None:
                await self._client.aclose()
        self._client = self._pubsub = None

    async def subscribe(self, channel: str) -> None:
        return None

    async def unsubscribe(self, channel: str) -> None:
        return None

    async def publish(self, channel: str, message: Any) -> None:
        if self._client is None:
            raise ConnectionError("bus not connected")
        await self._client.publish(WIRE_CHANNEL, pack(channel, str(message)))

    async def next_published(self) -> Event:
        if self._pubsub is None:
            raise ConnectionError("bus not connected")
        while True:
            message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=30.0)
            if message is not None and message["type"] == "message":
                return _unpack(message["data"])
            await asyncio.sleep(0)


def backend_for(url: str, app_conninfo: str) -> BroadcastBackend:
    """``memory://``, ``postgres`` (the app database) or a ``postgresql://`` URL, ``redis://``."""
    scheme = url.split(":", 1)[0].lower()
    if scheme == "memory":
        return MemoryBackend(url)
    if scheme in ("postgres", "postgresql"):
        return PostgresNotifyBackend(app_conninfo if "://" not in url else url)
    if scheme in ("redis", "rediss"):
        return RedisBackend(url)
    raise ValueError(f"unsupported LMS_BROADCAST_URL {url!r}: use memory://, postgres or redis://")
