"""A course's progress fan-out in one process, against real PostgreSQL and the in-memory bus:
each event read, authorised and rendered once for all subscribers of a view, and no subscriber
holding up another."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
import pytest
from broadcaster._backends.memory import MemoryBackend

from lms_graphql.auth.viewer import Viewer
from lms_graphql.errors import ErrorCode, LmsError
from lms_graphql.events.bus import EventBus
from lms_graphql.events.live import LiveFeeds
from lms_graphql.events.outbox import append_event
from lms_graphql.kit import channels
from lms_graphql.kit.db import Database
from lms_graphql.users.repository import UserRepository
from tests.support.builders import build_course
from tests.support.people import Person, PersonFactory, TenantFactory
from tests.support.waiting import until


class World:
    def __init__(self, db: Database, bus: EventBus, feeds: LiveFeeds, teacher: Person, course_id: uuid.UUID) -> None:
        self.db, self.bus, self.feeds, self.teacher, self.course_id = db, bus, feeds, teacher, course_id
        self.tenant_id = teacher.tenant.id

    async def viewer(self, person: Person) -> Viewer:
        async with self.db.tenant_transaction(self.tenant_id) as session:
            user = await UserRepository(session, self.tenant_id).get(person.id)
        assert user is not None
        return Viewer(user=user, home_tenant_id=self.tenant_id)

    async def progressed(self, percent: int) -> uuid.UUID:
        """A committed lesson.progressed event, published on the course's channel."""
        async with self.db.tenant_transaction(self.tenant_id) as session:
            event_id = await append_event(
                session,
                tenant_id=self.tenant_id,
                event_type="lesson.progressed",
                user_id=self.teacher.id,
                course_id=self.course_id,
                payload={"courseId": str(self.course_id), "lessonId": str(uuid.uuid4()), "progressPct": percent},
            )
        channel = channels.course(self.tenant_id, self.course_id)
        await self.bus.publish(channel, channels.event_message(event_id, "lesson.progressed"))
        return event_id

    def open_channels(self) -> int:
        return len(self.feeds._courses)


@asynccontextmanager
async def world(
    db: Database, make_tenant: TenantFactory, make_user: PersonFactory, queue_size: int = 100
) -> AsyncIterator[World]:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    course = await build_course(db, tenant, teacher.id)
    bus = EventBus(MemoryBackend("memory://"), queue_size=queue_size)
    await bus.start()
    try:
        yield World(db, bus, LiveFeeds(db, bus), teacher, course.id)
    finally:
        await bus.stop()


class Follower:
    """One subscription's feed, taken item by item."""

    def __init__(self, feed: Any) -> None:
        self.feed = feed
        self.pending: asyncio.Future[Any] = asyncio.ensure_future(anext(feed))

    async def next(self) -> Any:
        item = await asyncio.wait_for(self.pending, 5)
        self.pending = asyncio.ensure_future(anext(self.feed))
        return item

    async def close(self) -> None:
        self.pending.cancel()
        await asyncio.gather(self.pending, return_exceptions=True)
        await self.feed.aclose()


async def test_each_event_is_rendered_once_per_view_and_sent_to_every_subscriber_of_it(
    db: Database, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    renders: list[tuple[str, uuid.UUID]] = []

    def rendering(view: str) -> Any:
        async def render(row: Any) -> tuple[str, uuid.UUID]:
            renders.append((view, row.id))
            return (view, row.id)

        return render

    async with world(db, make_tenant, make_user) as w:
        viewer = await w.viewer(w.teacher)
        wide = [
            Follower(w.feeds.course_progress(w.tenant_id, viewer, w.course_id, None, rendering("wide"), "wide"))
            for _ in range(50)
        ]
        narrow = Follower(w.feeds.course_progress(w.tenant_id, viewer, w.course_id, None, rendering("narrow"), "n"))
        everyone = [*wide, narrow]
        try:
            await until(lambda: w.bus.subscriber_count == 1)  # one bus subscription for the course
            await asyncio.sleep(0.05)  # every feed has joined (they subscribed through the channel)
            first, second = await w.progressed(10), await w.progressed(20)
            for follower in wide:
                assert [await follower.next(), await follower.next()] == [("wide", first), ("wide", second)]
            assert [await narrow.next(), await narrow.next()] == [("narrow", first), ("narrow", second)]
            assert sorted(renders) == sorted([("wide", first), ("narrow", first), ("wide", second), ("narrow", second)])
        finally:
            for follower in everyone:
                await follower.close()
        await until(lambda: w.open_channels() == 0 and w.bus.subscriber_count == 0)


async def test_a_subscriber_that_does_not_drain_is_closed_and_holds_up_no_one(
    db: Database, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    async with world(db, make_tenant, make_user, queue_size=5) as w:
        viewer = await w.viewer(w.teacher)
        fast = Follower(w.feeds.course_progress(w.tenant_id, viewer, w.course_id, None))
        stuck = Follower(w.feeds.course_progress(w.tenant_id, viewer, w.course_id, None))
        try:
            await until(lambda: w.bus.subscriber_count == 1)
            await asyncio.sleep(0.05)
            # The stuck subscriber takes its first item, then nothing more (as when its socket's
            # writes block): the fast one still receives every event as it comes.
            sent = []
            for percent in range(1, 13):
                sent.append(await w.progressed(percent))
                assert (await fast.next()).id == sent[-1]
            assert (await stuck.next()).id == sent[0]
            with pytest.raises(LmsError) as closed:
                await stuck.next()
            assert closed.value.code == ErrorCode.RATE_LIMITED
            assert "fell more than 5 messages behind" in closed.value.message
        finally:
            await fast.close()
            await stuck.close()


async def test_a_subscriber_whose_access_changed_stops_while_the_others_continue(
    db: Database, make_tenant: TenantFactory, make_user: PersonFactory, owner_conn: psycopg.Connection
) -> None:
    async with world(db, make_tenant, make_user) as w:
        admin = await make_user(w.teacher.tenant, "admin")
        teacher = Follower(w.feeds.course_progress(w.tenant_id, await w.viewer(w.teacher), w.course_id, None))
        watcher = Follower(w.feeds.course_progress(w.tenant_id, await w.viewer(admin), w.course_id, None))
        try:
            await until(lambda: w.bus.subscriber_count == 1)
            await asyncio.sleep(0.05)
            first = await w.progressed(10)
            assert (await watcher.next()).id == first
            # Behind the feed's back (no revocation on the bus): the next event is checked anyway.
            owner_conn.execute("UPDATE users SET role = 'student' WHERE id = %s", (admin.id,))
            second = await w.progressed(20)
            with pytest.raises(LmsError) as revoked:
                await watcher.next()
            assert revoked.value.code == ErrorCode.FORBIDDEN
            assert [(await teacher.next()).id, (await teacher.next()).id] == [first, second]
        finally:
            await teacher.close()
            await watcher.close()


async def test_a_feed_resumes_on_its_own_after_the_event_it_names(
    db: Database, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    async with world(db, make_tenant, make_user) as w:
        viewer = await w.viewer(w.teacher)
        live = Follower(w.feeds.course_progress(w.tenant_id, viewer, w.course_id, None))
        try:
            await until(lambda: w.bus.subscriber_count == 1)
            await asyncio.sleep(0.05)
            seen, missed = await w.progressed(10), await w.progressed(20)
            resumed = Follower(w.feeds.course_progress(w.tenant_id, viewer, w.course_id, seen))
            await asyncio.sleep(0.05)
            latest = await w.progressed(30)
            assert [(await resumed.next()).id, (await resumed.next()).id] == [missed, latest]
            assert [(await live.next()).id for _ in range(3)] == [seen, missed, latest]
            await resumed.close()
        finally:
            await live.close()
