"""The event bus hub and the outbox relay, in process, against real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import psycopg
import pytest
from broadcaster._backends.memory import MemoryBackend

from lms_graphql.events.backends import PostgresNotifyBackend
from lms_graphql.events.bus import RESYNC, EventBus, SubscriptionClosed
from lms_graphql.events.outbox import append_event
from lms_graphql.events.relay import OutboxRelay
from lms_graphql.kit import channels
from lms_graphql.kit.db import Database
from tests.support.builders import build_course
from tests.support.database import OwnedDatabaseUrls, libpq_url
from tests.support.people import PersonFactory, TenantFactory
from tests.support.waiting import until


async def collect(subscription: Any, count: int, timeout: float = 5.0) -> list[Any]:
    items: list[Any] = []
    async with asyncio.timeout(timeout):
        while len(items) < count:
            items.append(await subscription.get())
    return items


async def test_a_slow_subscriber_is_closed_and_the_others_are_not() -> None:
    bus = EventBus(MemoryBackend("memory://"), queue_size=3)
    await bus.start()
    try:
        async with bus.subscribe(["c"]) as slow, bus.subscribe(["c"]) as fast:
            received: list[Any] = []

            async def consume() -> None:
                received.extend(await collect(fast, 10))

            consumer = asyncio.create_task(consume())
            for n in range(10):
                await bus.publish("c", str(n))
                await asyncio.sleep(0.01)
            await consumer
            assert received == [str(n) for n in range(10)]
            with pytest.raises(SubscriptionClosed, match="fell more than 3 messages behind"):
                while True:
                    await slow.get()
    finally:
        await bus.stop()


async def test_a_killed_notify_connection_reconnects_and_says_resync(
    database_urls: OwnedDatabaseUrls, owner_conn: psycopg.Connection
) -> None:
    backend = PostgresNotifyBackend(libpq_url(database_urls.app))
    bus = EventBus(backend)
    await bus.start()
    try:
        async with bus.subscribe(["c"]) as subscription:
            await bus.publish("c", "before")
            assert await collect(subscription, 1) == ["before"]
            owner_conn.execute("SELECT pg_terminate_backend(%s)", (backend.listener_pid,))
            assert await collect(subscription, 1, timeout=10) == [RESYNC]
            await bus.publish("c", "after")
            assert await collect(subscription, 1) == ["after"]
        assert bus.reconnects == 1
    finally:
        await bus.stop()


class FlakyBackend(MemoryBackend):
    """A memory bus that can be switched off, as a bus outage."""

    down = False

    async def publish(self, channel: str, message: Any) -> None:
        if self.down:
            raise ConnectionError("bus down")
        await super().publish(channel, message)


async def test_relay_publishes_committed_events_once_and_never_rolled_back_ones(
    db: Database, make_tenant: TenantFactory, make_user: PersonFactory, owner_conn: psycopg.Connection
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    course = await build_course(db, tenant, teacher.id)
    backend = FlakyBackend("memory://")
    bus = EventBus(backend)
    await bus.start()
    relay = OutboxRelay(db, bus, sweep_seconds=3600)
    channel = channels.course(tenant.id, course.id)

    async def event(label: str) -> uuid.UUID:
        async with db.tenant_transaction(tenant.id) as session:
            return await append_event(
                session, tenant_id=tenant.id, event_type=label, user_id=None, payload={}, course_id=course.id
            )

    try:
        async with bus.subscribe([channel]) as subscription:
            # Out of order: T1 writes first but commits last; neither is lost.
            t1 = db.tenant_transaction(tenant.id)
            session1 = await t1.__aenter__()
            first = await append_event(
                session1, tenant_id=tenant.id, event_type="t1", user_id=None, payload={}, course_id=course.id
            )
            second = await event("t2")
            assert await relay.drain(tenant.id) == 1
            await t1.__aexit__(None, None, None)
            assert await relay.drain(tenant.id) == 1
            # A rolled-back transaction leaves nothing to publish.
            with pytest.raises(RuntimeError):
                async with db.tenant_transaction(tenant.id) as session:
                    await append_event(
                        session, tenant_id=tenant.id, event_type="ghost", user_id=None, payload={}, course_id=course.id
                    )
                    raise RuntimeError("rollback")
            assert await relay.drain(tenant.id) == 0
            # The bus is down: nothing is marked published, and it all goes out later.
            backend.down = True
            third = await event("t3")
            with pytest.raises(ConnectionError):
                await relay.drain(tenant.id)
            backend.down = False
            assert await relay.drain(tenant.id) == 1
            messages = await collect(subscription, 3)
        published = [channels.parse_event_message(m) for m in messages]
        assert [p[0] for p in published if p] == [second, first, third]
        unpublished = owner_conn.execute(
            "SELECT count(*) FROM domain_events WHERE tenant_id = %s AND published_at IS NULL", (tenant.id,)
        ).fetchone()
        assert unpublished == (0,)
    finally:
        await bus.stop()


async def test_sweep_publishes_leftovers_and_prunes(
    db: Database, make_tenant: TenantFactory, owner_conn: psycopg.Connection
) -> None:
    tenant = await make_tenant()
    bus = EventBus(MemoryBackend("memory://"))
    await bus.start()
    relay = OutboxRelay(db, bus, sweep_seconds=3600)
    try:
        async with db.tenant_transaction(tenant.id) as session:
            await append_event(session, tenant_id=tenant.id, event_type="left.over", user_id=None, payload={})
        owner_conn.execute(
            "INSERT INTO domain_events (tenant_id, event_type, payload, occurred_at, published_at)"
            " VALUES (%s, 'ancient', '{}', now() - interval '30 days', now() - interval '30 days')",
            (tenant.id,),
        )
        assert await relay.sweep() is True
        rows = owner_conn.execute(
            "SELECT event_type, published_at IS NOT NULL FROM domain_events WHERE tenant_id = %s", (tenant.id,)
        ).fetchall()
        assert rows == [("left.over", True)]
        # Pruning is hourly: the next sweep publishes but leaves old rows for later.
        owner_conn.execute(
            "INSERT INTO domain_events (tenant_id, event_type, payload, occurred_at, published_at)"
            " VALUES (%s, 'ancient', '{}', now() - interval '30 days', now() - interval '30 days')",
            (tenant.id,),
        )
        assert await relay.sweep(spread_over=0.01) is True
        kinds = owner_conn.execute("SELECT event_type FROM domain_events WHERE tenant_id = %s", (tenant.id,))
        assert sorted(row[0] for row in kinds) == ["ancient", "left.over"]
    finally:
        await bus.stop()


async def test_a_feed_replays_what_it_missed_when_the_bus_says_resync(
    db: Database, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    from lms_graphql.auth.viewer import Viewer
    from lms_graphql.events.live import LiveFeeds
    from lms_graphql.users.repository import UserRepository

    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    course = await build_course(db, tenant, teacher.id)
    async with db.tenant_transaction(tenant.id) as session:
        user = await UserRepository(session, tenant.id).get(teacher.id)
    assert user is not None
    bus = EventBus(MemoryBackend("memory://"))
    await bus.start()
    feed = LiveFeeds(db, bus).course_progress(tenant.id, Viewer(user=user, home_tenant_id=tenant.id), course.id, None)

    async def progressed(percent: int) -> uuid.UUID:
        async with db.tenant_transaction(tenant.id) as session:
            return await append_event(
                session,
                tenant_id=tenant.id,
                event_type="lesson.progressed",
                user_id=teacher.id,
                course_id=course.id,
                payload={"courseId": str(course.id), "lessonId": str(course.lesson_ids[0]), "progressPct": percent},
            )

    try:
        pending = asyncio.ensure_future(anext(feed))
        await until(lambda: any(bus._subscriptions.values()))  # the feed has subscribed
        # Published while this process's bus connection was away: only a resync finds it.
        missed = await progressed(30)
        for subscriptions in list(bus._subscriptions.values()):
            for subscription in subscriptions:
                subscription.offer(RESYNC)
        assert (await asyncio.wait_for(pending, 5)).id == missed
        live = await progressed(60)
        await bus.publish(channels.course(tenant.id, course.id), channels.event_message(live, "lesson.progressed"))
        await bus.publish(channels.course(tenant.id, course.id), channels.event_message(missed, "lesson.progressed"))
        assert (await asyncio.wait_for(anext(feed), 5)).id == live  # the duplicate is skipped
    finally:
        await feed.aclose()
        await bus.stop()
