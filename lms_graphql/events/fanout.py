"""Course progress fan-out: one bus subscription per watched course in a process, and the work
of each event done once for all of its subscribers.

An event on a course reaches everyone watching it, often hundreds of sockets. Per subscriber
only what is the subscriber's own remains: the authorisation verdict (read in one transaction
for all of them: their user rows and the course's instructor, then decided per distinct viewer),
its position for resuming, and writing to its socket. The event row is read once, and each
distinct view of it (a subscription's document and variables: ``view_key``) is rendered once,
by the render function the subscribers of that view brought. Over a websocket that function
renders the message's JSON text, so every subscriber of one document writes the same text.

The channel never waits for a subscriber: each has a bounded inbox, filled without awaiting.
One whose socket does not drain falls behind and is closed (RATE_LIMITED, as a bus subscriber
that far behind is), and never holds up the others.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lms_graphql.auth import policies
from lms_graphql.auth.viewer import Viewer
from lms_graphql.errors import ErrorCode, LmsError
from lms_graphql.events.bus import RESYNC, EventBus, Resync, Subscription, SubscriptionClosed
from lms_graphql.events.repository import FeedBatchRepository
from lms_graphql.kit import channels
from lms_graphql.kit.db import Database

PROGRESSED = "lesson.progressed"

Render = Callable[[Any], Awaitable[Any]]  # an event row -> what the subscriber is sent


def revoked() -> LmsError:
    return LmsError(ErrorCode.FORBIDDEN, "access revoked: subscribe again after signing in")


def closed_error(reason: str | None) -> LmsError | None:
    """What a subscriber is told when its feed closed for ``reason`` (None: nothing, it just ends)."""
    if not reason or reason == "unsubscribed":
        return None
    return LmsError(ErrorCode.RATE_LIMITED if "behind" in reason else ErrorCode.INTERNAL, reason)


def may_watch(viewer: Viewer, row: Any, instructor_id: object) -> bool:
    """Whether ``viewer`` may still receive the course's progress, its user row as read now."""
    if row is None or not row.is_active or row.token_version != viewer.user.token_version:
        return False
    now = Viewer(user=row, home_tenant_id=viewer.home_tenant_id, cross_tenant=viewer.cross_tenant)
    return policies.may_watch_progress(now, instructor_id)


def verdict_key(viewer: Viewer) -> Hashable:
    """Everything may_watch reads of the viewer: subscribers with the same key get one verdict."""
    return (viewer.id, viewer.user.token_version, viewer.home_tenant_id, viewer.cross_tenant)


@dataclass(frozen=True)
class Delivery:
    event_id: uuid.UUID
    occurred_at: datetime
    view: Any  # what the subscriber's render made of the event


class Inbox:
    """What the channel handed one subscriber and it has not taken yet: at most ``limit`` items."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._items: collections.deque[Delivery | Resync] = collections.deque()
        self._waiter: asyncio.Future[None] | None = None
        self._ended = False
        self._error: Exception | None = None

    def put(self, item: Delivery | Resync) -> None:
        if self._ended:
            return
        if len(self._items) >= self._limit:
            self.end(LmsError(ErrorCode.RATE_LIMITED, f"closed: fell more than {self._limit} messages behind"))
            return
        self._items.append(item)
        self._wake()

    def end(self, error: Exception | None) -> None:
        """No more items; the reader gets ``error`` (or the end) before anything still queued."""
        if not self._ended:
            self._ended, self._error = True, error
            self._items.clear()
            self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> Delivery | Resync | None:
        """The next item; None once ended without an error. Raises the error it ended with."""
        while not self._items:
            if self._ended:
                if self._error is not None:
                    raise self._error.with_traceback(None)
                return None
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.popleft()


@dataclass(eq=False)
class Member:
    """One subscription of a course's progress in this process."""

    viewer: Viewer
    view_key: Hashable
    render: Render
    inbox: Inbox
    verdict: Hashable = field(init=False)

    def __post_init__(self) -> None:
        self.verdict = verdict_key(self.viewer)


class CourseChannel:
    """The subscribers of one course in this process, fed by one bus subscription. They are kept
    in groups of the same verdict key and view, so an event costs one decision per verdict, one
    rendering per view, and for each subscriber only the hand-over to its inbox."""

    def __init__(self, bus: EventBus, db: Database, tenant_id: uuid.UUID, course_id: uuid.UUID) -> None:
        self._bus, self._db = bus, db
        self.tenant_id, self.course_id = tenant_id, course_id
        self._groups: dict[tuple[Hashable, Hashable], set[Member]] = {}
        self.size = 0
        self.subscribed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.task = asyncio.create_task(self._run(), name=f"progress-{course_id}")

    def add(self, member: Member) -> None:
        self._groups.setdefault((member.verdict, member.view_key), set()).add(member)
        self.size += 1

    def discard(self, member: Member) -> None:
        key = (member.verdict, member.view_key)
        group = self._groups.get(key)
        if group is not None and member in group:
            group.remove(member)
            self.size -= 1
            if not group:
                del self._groups[key]

    def _members(self) -> list[Member]:
        return [member for group in self._groups.values() for member in group]

    async def _run(self) -> None:
        reason: str | None = None
        error: Exception | None = None
        try:
            async with self._bus.subscribe([channels.course(self.tenant_id, self.course_id)]) as subscription:
                self.subscribed.set_result(None)
                await self._follow(subscription)
                reason = subscription.closed_reason
        except Exception as exc:  # a read failed: every subscriber gets the error, as each would have alone
            error = exc
        finally:
            if not self.subscribed.done():
                if error is None:
                    self.subscribed.cancel()
                else:
                    self.subscribed.set_exception(error)
            for member in self._members():
                member.inbox.end(error or closed_error(reason))

    async def _follow(self, subscription: Subscription) -> None:
        while True:
            try:
                message = await subscription.get()
            except SubscriptionClosed:
                return
            if message is RESYNC:
                for member in self._members():
                    member.inbox.put(RESYNC)
                continue
            parsed = channels.parse_event_message(str(message))
            if parsed is not None and self.size:
                await self._deliver(parsed[0])

    async def _deliver(self, event_id: uuid.UUID) -> None:
        groups = [(verdict, view, list(members)) for (verdict, view), members in self._groups.items()]
        row, allowed = await self._read(event_id, {verdict: members[0].viewer for verdict, _, members in groups})
        wanted = row is not None and row.course_id == self.course_id and row.event_type == PROGRESSED
        deliveries: dict[Hashable, Delivery] = {}  # one per view, shared by its subscribers
        for verdict, view, members in groups:
            if not allowed[verdict]:
                for member in members:
                    member.inbox.end(revoked())
                continue
            if not wanted:
                continue
            delivery = deliveries.get(view)
            if delivery is None:
                delivery = Delivery(row.id, row.occurred_at, await members[0].render(row))
                deliveries[view] = delivery
            for member in members:
                member.inbox.put(delivery)

    async def verdicts(self, viewers: Mapping[Hashable, Viewer]) -> dict[Hashable, bool]:
        """May each viewer (by verdict key) still watch?"""
        return (await self._read(None, viewers))[1]

    async def _read(
        self, event_id: uuid.UUID | None, viewers: Mapping[Hashable, Viewer]
    ) -> tuple[Any, dict[Hashable, bool]]:
        """The event (when asked for), and whether each viewer may still watch: the viewers' rows
        and the course's instructor. One transaction, one statement each, whatever the number of
        subscribers."""
        user_ids = list({viewer.id for viewer in viewers.values()})
        async with self._db.tenant_transaction(self.tenant_id) as session:
            feed = FeedBatchRepository(session, self.tenant_id)
            events = await feed.events([event_id]) if event_id is not None else []
            users = {row.id: row for row in await feed.subscribers(user_ids)}
            courses = await feed.instructors([self.course_id])
        instructor_id = courses[0].instructor_id if courses else None
        allowed = {key: may_watch(viewer, users.get(viewer.id), instructor_id) for key, viewer in viewers.items()}
        return (events[0] if events else None), allowed


class CourseChannels:
    """This process's course channels: opened by their first subscriber, closed after their last."""

    def __init__(self, bus: EventBus, db: Database) -> None:
        self._bus, self._db = bus, db
        self._open: dict[tuple[uuid.UUID, uuid.UUID], CourseChannel] = {}

    @contextlib.asynccontextmanager
    async def join(self, tenant_id: uuid.UUID, course_id: uuid.UUID, member: Member) -> AsyncIterator[CourseChannel]:
        """``member`` receives the course's events from the moment this yields (subscribed)."""
        key = (tenant_id, course_id)
        channel = self._open.get(key)
        if channel is None or channel.task.done():
            channel = self._open[key] = CourseChannel(self._bus, self._db, tenant_id, course_id)
        channel.add(member)
        try:
            await asyncio.shield(channel.subscribed)
            yield channel
        finally:
            channel.discard(member)
            if not channel.size:
                if self._open.get(key) is channel:
                    del self._open[key]
                channel.task.cancel()

    def __len__(self) -> int:
        return len(self._open)
