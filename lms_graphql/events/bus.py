"""Fan-out of bus messages to in-process subscribers, over a broadcaster backend.

broadcaster's own ``Broadcast`` hub is not used, for three measured faults: its listener
task dies silently when the backend connection drops (subscribers then wait forever), its
subscriber queues are unbounded, and it has no way to tell subscribers they may have missed
messages. This hub keeps broadcaster's backend interface and fixes those: the listener is
supervised and reconnects with backoff, every subscription then receives ``RESYNC`` (re-read
what you may have missed), and each subscription's queue is bounded: a subscriber that falls
that far behind is closed with a reason, others are unaffected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from typing import Any

from broadcaster._backends.base import BroadcastBackend

log = logging.getLogger("lms_graphql.bus")


class Resync:
    """Delivered when the bus reconnected: messages may have been lost meanwhile."""

    def __repr__(self) -> str:
        return "RESYNC"


RESYNC = Resync()
DEFAULT_QUEUE_SIZE = 1_000


class SubscriptionClosed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Subscription:
    def __init__(self, channels: frozenset[str], queue_size: int) -> None:
        self.channels = channels
        self._queue: asyncio.Queue[str | Resync | None] = asyncio.Queue(maxsize=queue_size)
        self.closed_reason: str | None = None

    def offer(self, item: str | Resync) -> None:
        if self.closed_reason is not None:
            return
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.close(f"closed: fell more than {self._queue.maxsize} messages behind")

    def close(self, reason: str) -> None:
        if self.closed_reason is None:
            self.closed_reason = reason
            with contextlib.suppress(asyncio.QueueFull):
                self._queue.put_nowait(None)  # wakes a waiting reader

    async def get(self) -> str | Resync:
        if self.closed_reason is not None:
            raise SubscriptionClosed(self.closed_reason)
        item = await self._queue.get()
        if item is None or self.closed_reason is not None:
            raise SubscriptionClosed(self.closed_reason or "closed")
        return item

    def __aiter__(self) -> AsyncIterator[str | Resync]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[str | Resync]:
        while True:
            try:
                yield await self.get()
            except SubscriptionClosed:
                return


class EventBus:
    def __init__(self, backend: BroadcastBackend, *, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self._backend = backend
        self._queue_size = queue_size
        self._subscriptions: dict[str, set[Subscription]] = {}
        self._listener: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self.reconnects = 0

    async def start(self) -> None:
        await self._backend.connect()
        self._connected.set()
        self._listener = asyncio.create_task(self._listen(), name="event-bus-listener")

    async def stop(self, reason: str = "the server is shutting down") -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
        for subscriptions in self._subscriptions.values():
            for subscription in subscriptions:
                subscription.close(reason)
        with contextlib.suppress(Exception):
            await self._backend.disconnect()

    async def publish(self, channel: str, message: str) -> None:
        await self._connected.wait()
        await self._backend.publish(channel, message)

    @contextlib.asynccontextmanager
    async def subscribe(self, channels: Iterable[str]) -> AsyncIterator[Subscription]:
        subscription = Subscription(frozenset(channels), self._queue_size)
        for channel in subscription.channels:
            if channel not in self._subscriptions:
                self._subscriptions[channel] = set()
                await self._backend.subscribe(channel)
            self._subscriptions[channel].add(subscription)
        try:
            yield subscription
        finally:
            subscription.close("unsubscribed")
            for channel in subscription.channels:
                remaining = self._subscriptions.get(channel)
                if remaining is None:
                    continue
                remaining.discard(subscription)
                if not remaining:
                    del self._subscriptions[channel]
                    with contextlib.suppress(Exception):
                        await self._backend.unsubscribe(channel)

    @property
    def queue_size(self) -> int:
        """How many messages a subscriber may fall behind before it is closed."""
        return self._queue_size

    @property
    def subscriber_count(self) -> int:
        return len({s for subs in self._subscriptions.values() for s in subs})

    async def _listen(self) -> None:
        delay = 0.1
        while True:
            try:
                event: Any = await self._backend.next_published()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("event bus connection lost (%s); reconnecting", exc)
                self._connected.clear()
                await self._reconnect(delay)
                delay = min(delay * 2, 5.0)
                continue
            delay = 0.1
            for subscription in list(self._subscriptions.get(event.channel, ())):
                subscription.offer(event.message)

    async def _reconnect(self, delay: float) -> None:
        while True:
            await asyncio.sleep(delay)
            with contextlib.suppress(Exception):
                await self._backend.disconnect()
            try:
                await self._backend.connect()
                for channel in list(self._subscriptions):
                    await self._backend.subscribe(channel)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("event bus reconnect failed (%s); retrying", exc)
                delay = min(delay * 2, 5.0)
                continue
            self.reconnects += 1
            self._connected.set()
            # Whatever was published while we were away is lost to this process: say so.
            for subscriptions in list(self._subscriptions.values()):
                for subscription in subscriptions:
                    subscription.offer(RESYNC)
            return
