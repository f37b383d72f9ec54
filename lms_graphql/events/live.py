"""Live feeds behind the subscriptions: bus messages carry ids, the feed re-reads the data
through a tenant-bound transaction and re-authorises the subscriber for every message.

A feed subscribes to the bus first, then replays what the client missed (after the event
id it passes, from the outbox's retention window, at most REPLAY_LIMIT items), then follows
live messages, skipping what it already sent (a replayed event can also arrive live). When
the bus reconnects (RESYNC) the feed replays from the last item it sent, so a dropped bus
connection loses nothing either.

A student's notifications are the student's own: each feed follows the bus itself. A course's
progress is the same for all its watchers: feeds join the course's channel in this process
(fanout.py), which reads and authorises each event once for all of them, and renders it once
per view; the feed keeps what is its own (resuming, what it already sent).
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Callable, Hashable, Sequence
from datetime import UTC, datetime
from typing import Any

from lms_graphql.auth.viewer import Viewer
from lms_graphql.events.batch import FeedBatches
from lms_graphql.events.bus import RESYNC, EventBus, Subscription, SubscriptionClosed
from lms_graphql.events.fanout import CourseChannels, Delivery, Inbox, Member, Render, closed_error, revoked
from lms_graphql.events.repository import FeedRepository
from lms_graphql.kit import channels
from lms_graphql.kit.db import Database
from lms_graphql.kit.pagination import Keyset

REPLAY_LIMIT = 500
SEEN_LIMIT = 10_000


class Seen:
    """Ids already sent, bounded (oldest forgotten first)."""

    def __init__(self) -> None:
        # By the id's integer: a UUID's own hash is a Python call, and this runs per delivery.
        self._ids: OrderedDict[int, None] = OrderedDict()

    def add(self, item_id: uuid.UUID) -> bool:
        """True if new."""
        key = item_id.int
        if key in self._ids:
            return False
        self._ids[key] = None
        if len(self._ids) > SEEN_LIMIT:
            self._ids.popitem(last=False)
        return True


async def _as_row(row: Any) -> Any:
    return row


ROWS = "rows"  # the view of subscribers that take the event rows themselves


Backlog = Callable[[FeedRepository, Keyset], Awaitable[list[Any]]]
Live = Callable[[uuid.UUID], Awaitable[list[Any]]]
Check = Callable[[], Awaitable[bool]]


class LiveFeeds:
    def __init__(self, db: Database, bus: EventBus) -> None:
        self._db = db
        self._bus = bus
        self._batches = FeedBatches(db)
        self._courses = CourseChannels(bus, db)

    async def dispose(self) -> None:
        await self._db.dispose()

    async def _follow(
        self,
        tenant_id: uuid.UUID,
        bus_channels: list[str],
        start: Keyset | None,
        backlog: Backlog,
        live: Live,
        may_receive: Check,
        time_of: Callable[[Any], datetime],
    ) -> AsyncGenerator[Any, None]:
        seen = Seen()
        position = start or Keyset(datetime.now(UTC), uuid.UUID(int=0))
        async with self._bus.subscribe(bus_channels) as subscription:

            async def catch_up() -> list[Any]:
                if not await may_receive():
                    raise revoked()
                async with self._db.tenant_transaction(tenant_id) as session:
                    return await backlog(FeedRepository(session, tenant_id), position)

            pending = await catch_up() if start is not None else []
            while True:
                for row in pending:
                    if seen.add(row.id):
                        position = Keyset(time_of(row), row.id)
                        yield row
                message = await _next(subscription)
                if message is None:
                    break
                if message is RESYNC:
                    pending = await catch_up()
                    continue
                parsed = channels.parse_event_message(str(message))
                if parsed is None:
                    pending = []
                    continue
                if not await may_receive():
                    raise revoked()
                pending = await live(parsed[0])
            _raise_if_closed(subscription)

    async def _active(self, tenant_id: uuid.UUID, viewer: Viewer) -> Any:
        row = await self._batches.subscriber.load((tenant_id, viewer.id))
        if row is None or not row.is_active or row.token_version != viewer.user.token_version:
            return None
        return row

    async def notifications(
        self, tenant_id: uuid.UUID, viewer: Viewer, after_event_id: uuid.UUID | None
    ) -> AsyncGenerator[Any, None]:
        start = None
        if after_event_id is not None:
            resume_from = after_event_id
            start = await self._start(tenant_id, lambda feed: feed.notification_of_event(viewer.id, resume_from))

        async def may_receive() -> bool:
            return await self._active(tenant_id, viewer) is not None

        async def backlog(feed: FeedRepository, after: Keyset) -> list[Any]:
            return await feed.notifications(viewer.id, after=after, limit=REPLAY_LIMIT)

        async def live(event_id: uuid.UUID) -> list[Any]:
            row = await self._batches.notification.load((tenant_id, (viewer.id, event_id)))
            return [row] if row is not None else []

        bus_channels = [channels.user(tenant_id, viewer.id), channels.all_users(tenant_id)]
        async for row in self._follow(
            tenant_id, bus_channels, start, backlog, live, may_receive, lambda row: row.created_at
        ):
            yield row

    async def course_progress(
        self,
        tenant_id: uuid.UUID,
        viewer: Viewer,
        course_id: uuid.UUID,
        after_event_id: uuid.UUID | None,
        render: Render = _as_row,
        view_key: Hashable = ROWS,
    ) -> AsyncGenerator[Any, None]:
        """The course's progress events (rows), or what ``render`` makes of each; subscribers
        whose ``view_key`` is equal get one rendering of each live event (fanout.py)."""
        start = None
        if after_event_id is not None:
            resume_from = after_event_id
            start = await self._start(tenant_id, lambda feed: feed.event(resume_from))
        member = Member(viewer, view_key, render, Inbox(self._bus.queue_size))
        async with self._courses.join(tenant_id, course_id, member) as channel:
            seen = Seen()
            joined = Keyset(datetime.now(UTC), uuid.UUID(int=0))
            last: Delivery | None = None  # the last item sent: where a replay starts

            async def catch_up() -> list[Delivery]:
                if not (await channel.verdicts({member.verdict: viewer}))[member.verdict]:
                    raise revoked()
                after = Keyset(last.occurred_at, last.event_id) if last is not None else start or joined
                async with self._db.tenant_transaction(tenant_id) as session:
                    feed = FeedRepository(session, tenant_id)
                    rows = await feed.progress_events(course_id, after=after, limit=REPLAY_LIMIT)
                return [Delivery(row.id, row.occurred_at, await render(row)) for row in rows]

            pending: Sequence[Delivery] = await catch_up() if start is not None else ()
            while True:
                for item in pending:
                    if seen.add(item.event_id):
                        last = item
                        yield item.view
                received = await member.inbox.get()
                if received is None:
                    return
                if not isinstance(received, Delivery):  # RESYNC: the bus may have lost messages
                    pending = await catch_up()
                    continue
                pending = ()
                if seen.add(received.event_id):
                    last = received
                    yield received.view

    async def _start(self, tenant_id: uuid.UUID, locate: Callable[[FeedRepository], Awaitable[Any]]) -> Keyset | None:
        async with self._db.tenant_transaction(tenant_id) as session:
            row = await locate(FeedRepository(session, tenant_id))
        if row is None:
            return None
        at = getattr(row, "created_at", None) or row.occurred_at
        return Keyset(at, row.id)


async def _next(subscription: Subscription) -> Any:
    try:
        return await subscription.get()
    except SubscriptionClosed:
        return None


def _raise_if_closed(subscription: Subscription) -> None:
    error = closed_error(subscription.closed_reason)
    if error is not None:
        raise error
