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
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lms_graphql.auth.permissions import Permission, permissions_of
from lms_graphql.context import Viewer
from lms_graphql.errors import ErrorCode, LmsError
from lms_graphql.events import channels
from lms_graphql.events.bus import RESYNC, EventBus, Subscription
from lms_graphql.events.repository import FeedRepository
from lms_graphql.kit.db import Database

REPLAY_LIMIT = 500
SEEN_LIMIT = 10_000


@dataclass(frozen=True)
class Position:
    """Where a feed stands: the (time, id) of the last item it sent."""

    at: datetime
    id: uuid.UUID

    @property
    def created_at(self) -> datetime:
        return self.at

    @property
    def occurred_at(self) -> datetime:
        return self.at


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


Fetch = Callable[[FeedRepository, uuid.UUID | None, Position | None], Awaitable[list[Any]]]


class LiveFeeds:
    def __init__(self, db: Database, bus: EventBus) -> None:
        self._db = db
        self._bus = bus

    async def _follow(
        self,
        tenant_id: uuid.UUID,
        viewer: Viewer,
        bus_channels: list[str],
        start: Position | None,
        fetch: Fetch,
        may_receive: Callable[[FeedRepository], Awaitable[bool]],
        time_of: Callable[[Any], datetime],
    ) -> AsyncGenerator[Any, None]:
        seen = Seen()
        position = start
        async with self._bus.subscribe(bus_channels) as subscription:

            async def read(event_id: uuid.UUID | None, after: Position | None) -> list[Any]:
                async with self._db.tenant_transaction(tenant_id) as session:
                    feed = FeedRepository(session, tenant_id)
                    if not await may_receive(feed):
                        raise revoked()
                    return await fetch(feed, event_id, after)

            if position is not None:
                backlog = await read(None, position)
            else:
                backlog = []
                position = Position(datetime.now(UTC), uuid.UUID(int=0))
            for row in backlog:
                if seen.add(row.id):
                    position = Position(time_of(row), row.id)
                    yield row
            async for message in subscription:
                if message is RESYNC:
                    rows = await read(None, position)
                else:
                    parsed = channels.parse_event_message(str(message))
                    if parsed is None:
                        continue
                    rows = await read(parsed[0], None)
                for row in rows:
                    if seen.add(row.id):
                        position = Position(time_of(row), row.id)
                        yield row
            _raise_if_closed(subscription)

    def _active(self, viewer: Viewer) -> Callable[[FeedRepository], Awaitable[bool]]:
        async def check(feed: FeedRepository) -> bool:
            row = await feed.subscriber(viewer.id)
            return row is not None and row.is_active and row.token_version == viewer.user.token_version

        return check

    async def notifications(
        self, tenant_id: uuid.UUID, viewer: Viewer, after_event_id: uuid.UUID | None
    ) -> AsyncGenerator[Any, None]:
        start = None
        if after_event_id is not None:
            resume_from = after_event_id
            start = await self._start(tenant_id, lambda feed: feed.notification_of_event(viewer.id, resume_from))

        async def fetch(feed: FeedRepository, event_id: uuid.UUID | None, after: Position | None) -> list[Any]:
            if event_id is not None:
                return await feed.notifications(viewer.id, event_id=event_id, limit=REPLAY_LIMIT)
            return await feed.notifications(viewer.id, after=after, limit=REPLAY_LIMIT)  # type: ignore[arg-type]

        bus_channels = [channels.user(tenant_id, viewer.id), channels.all_users(tenant_id)]
        async for row in self._follow(
            tenant_id, viewer, bus_channels, start, fetch, self._active(viewer),
            lambda row: row.created_at,
        ):  # fmt: skip
            yield row

    async def course_progress(
        self, tenant_id: uuid.UUID, viewer: Viewer, course_id: uuid.UUID, after_event_id: uuid.UUID | None
    ) -> AsyncGenerator[Any, None]:
        async def may_watch(feed: FeedRepository) -> bool:
            user = await feed.subscriber(viewer.id)
            if user is None or not user.is_active or user.token_version != viewer.user.token_version:
                return False
            rights = permissions_of(user.role)
            if Permission.PROGRESS_WATCH_ANY in rights:
                return True
            instructor = await feed.course_instructor(course_id)
            return Permission.PROGRESS_WATCH_OWN_COURSE in rights and instructor == viewer.id

        start = None
        if after_event_id is not None:
            resume_from = after_event_id
            start = await self._start(tenant_id, lambda feed: feed.event(resume_from))

        async def fetch(feed: FeedRepository, event_id: uuid.UUID | None, after: Position | None) -> list[Any]:
            if event_id is not None:
                return await feed.progress_events(course_id, event_id=event_id, limit=REPLAY_LIMIT)
            return await feed.progress_events(course_id, after=after, limit=REPLAY_LIMIT)  # type: ignore[arg-type]

        async for row in self._follow(
            tenant_id, viewer, [channels.course(tenant_id, course_id)], start, fetch,
            may_watch, lambda row: row.occurred_at,
        ):  # fmt: skip
            yield row

    async def _start(self, tenant_id: uuid.UUID, locate: Callable[[FeedRepository], Awaitable[Any]]) -> Position | None:
        async with self._db.tenant_transaction(tenant_id) as session:
            row = await locate(FeedRepository(session, tenant_id))
        if row is None:
            return None
        at = getattr(row, "created_at", None) or row.occurred_at
        return Position(at, row.id)


def _raise_if_closed(subscription: Subscription) -> None:
    reason = subscription.closed_reason
    if reason and reason != "unsubscribed":
        raise LmsError(ErrorCode.RATE_LIMITED if "behind" in reason else ErrorCode.INTERNAL, reason)
