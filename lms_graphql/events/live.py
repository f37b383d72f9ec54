"""Live feeds behind the subscriptions: bus messages carry ids, the feed re-reads the data
through a tenant-bound transaction and re-authorises the subscriber for every message.

A feed subscribes to the bus first, then replays what the client missed (after the event
id it passes, from the outbox's retention window, at most REPLAY_LIMIT items), then follows
live messages, skipping what it already sent (a replayed event can also arrive live). When
the bus reconnects (RESYNC) the feed replays from the last item it sent, so a dropped bus
connection loses nothing either.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from lms_graphql.auth import policies
from lms_graphql.auth.viewer import Viewer
from lms_graphql.errors import ErrorCode, LmsError
from lms_graphql.events.batch import FeedBatches
from lms_graphql.events.bus import RESYNC, EventBus, Subscription, SubscriptionClosed
from lms_graphql.events.repository import FeedRepository
from lms_graphql.kit import channels
from lms_graphql.kit.db import Database
from lms_graphql.kit.pagination import Keyset

REPLAY_LIMIT = 500
SEEN_LIMIT = 10_000


class Seen:
    """Ids already sent, bounded (oldest forgotten first)."""

    def __init__(self) -> None:
        self._ids: OrderedDict[uuid.UUID, None] = OrderedDict()

    def add(self, item_id: uuid.UUID) -> bool:
        """True if new."""
        if item_id in self._ids:
            return False
        self._ids[item_id] = None
        if len(self._ids) > SEEN_LIMIT:
            self._ids.popitem(last=False)
        return True


def revoked() -> LmsError:
    return LmsError(ErrorCode.FORBIDDEN, "access revoked: subscribe again after signing in")


Backlog = Callable[[FeedRepository, Keyset], Awaitable[list[Any]]]
Live = Callable[[uuid.UUID], Awaitable[list[Any]]]
Check = Callable[[], Awaitable[bool]]


class LiveFeeds:
    def __init__(self, db: Database, bus: EventBus) -> None:
        self._db = db
        self._bus = bus
        self._batches = FeedBatches(db)

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
        self, tenant_id: uuid.UUID, viewer: Viewer, course_id: uuid.UUID, after_event_id: uuid.UUID | None
    ) -> AsyncGenerator[Any, None]:
        async def may_receive() -> bool:
            user = await self._active(tenant_id, viewer)
            if user is None:
                return False
            now = Viewer(user=user, home_tenant_id=viewer.home_tenant_id, cross_tenant=viewer.cross_tenant)
            if policies.may_watch_progress(now, None):  # any course: no need to read this one
                return True
            course = await self._batches.instructor.load((tenant_id, course_id))
            return course is not None and policies.may_watch_progress(now, course.instructor_id)

        start = None
        if after_event_id is not None:
            resume_from = after_event_id
            start = await self._start(tenant_id, lambda feed: feed.event(resume_from))

        async def backlog(feed: FeedRepository, after: Keyset) -> list[Any]:
            return await feed.progress_events(course_id, after=after, limit=REPLAY_LIMIT)

        async def live(event_id: uuid.UUID) -> list[Any]:
            row = await self._batches.event.load((tenant_id, event_id))
            wanted = row is not None and row.course_id == course_id and row.event_type == "lesson.progressed"
            return [row] if wanted else []

        async for row in self._follow(
            tenant_id, [channels.course(tenant_id, course_id)], start, backlog, live, may_receive,
            lambda row: row.occurred_at,
        ):  # fmt: skip
            yield row

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
    reason = subscription.closed_reason
    if reason and reason != "unsubscribed":
        raise LmsError(ErrorCode.RATE_LIMITED if "behind" in reason else ErrorCode.INTERNAL, reason)
