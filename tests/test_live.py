"""Subscriptions through a real uvicorn process: both protocols, authorisation, tenants,
expiry, several processes sharing Postgres NOTIFY or Redis, and resuming."""

from __future__ import annotations

import asyncio
import functools
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lms_graphql.auth.tokens import TokenService
from lms_graphql.config import parse_jwt_keys
from lms_graphql.kit.db import Database
from tests.support.builders import build_course
from tests.support.http import TEST_JWT_KEYS
from tests.support.people import PASSWORD, PersonFactory, TenantFactory
from tests.support.scenes import NOTIFICATION_FEED, PROGRESS_FEED, progress, scene
from tests.support.servers import LEGACY_WS, TRANSPORT_WS, live_server, subscribed

pytestmark = pytest.mark.slow


def close_code(error: BaseException | None) -> int | None:
    """The websocket close code behind a client error, if the server closed the socket."""
    while error is not None:
        received = getattr(error, "rcvd", None)
        if received is not None:
            return int(received.code)
        error = error.__cause__ or error.__context__
    return None


def updates(received: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(r["courseProgressUpdates"]["lessonId"], r["courseProgressUpdates"]["progressPct"]) for r in received]


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_instructor_sees_progress_live_on_both_protocols(
    env_for_cli: dict[str, str], make_tenant: TenantFactory, make_user: PersonFactory, db: Database, protocol: str
) -> None:
    world = await scene(make_tenant, make_user, db)
    with live_server(env_for_cli) as server:
        teacher = await server.login(world.slug, world.teacher.email, PASSWORD)
        student = await server.login(world.slug, world.student.email, PASSWORD)
        async with subscribed(server, teacher, PROGRESS_FEED, {"c": str(world.course_id)}, protocol) as feed:
            await progress(server, student, world.lessons[0], 40)
            await progress(server, student, world.lessons[0], 100)
            received = await feed.wait_for(2)
        assert feed.error is None, repr(feed.error)
        first = received[0]["courseProgressUpdates"]
        assert first["userId"] == str(world.student.id)
        assert (first["status"], first["progressPct"], first["coursePercent"]) == ("IN_PROGRESS", 40, 0.0)
        assert received[1]["courseProgressUpdates"]["coursePercent"] == 25.0


async def test_notifications_arrive_after_commit_only(
    env_for_cli: dict[str, str], make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    world = await scene(make_tenant, make_user, db)
    draft = await build_course(db, world.teacher.tenant, world.teacher.id, status="draft", title="Brand new")
    with live_server(env_for_cli) as server:
        student = await server.login(world.slug, world.student.email, PASSWORD)
        teacher = await server.login(world.slug, world.teacher.email, PASSWORD)
        async with subscribed(server, student, NOTIFICATION_FEED) as feed:
            # A mutation that fails publishes nothing (its savepoint, and events, rolled back).
            failed = await server.gql(
                'mutation($c: ID!) { updateCourse(id: $c, input: {title: ""}) { id } }',
                {"c": str(draft.id)},
                Authorization=f"Bearer {teacher}",
            )
            assert failed["errors"]
            published = await server.gql(
                "mutation($c: ID!) { publishCourse(id: $c) { id } }",
                {"c": str(draft.id)},
                Authorization=f"Bearer {teacher}",
            )
            assert "errors" not in published
            received = await feed.wait_for(1)
            assert received[0]["studentNotifications"]["title"] == "New course: Brand new"
            assert len(await feed.quiet(0.5)) == 1


async def test_refusals_and_silence_across_tenants(
    env_for_cli: dict[str, str], make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    world = await scene(make_tenant, make_user, db)
    other = await scene(make_tenant, make_user, db)
    with live_server(env_for_cli) as server:
        student = await server.login(world.slug, world.student.email, PASSWORD)
        foreign_teacher = await server.login(other.slug, other.teacher.email, PASSWORD)
        async with subscribed(server, student, PROGRESS_FEED, {"c": str(world.course_id)}) as refused:
            await refused.wait_for(1, timeout=5)
        assert "FORBIDDEN" in str(refused.error) or "only the course" in str(refused.error)
        async with subscribed(server, foreign_teacher, PROGRESS_FEED, {"c": str(world.course_id)}) as hidden:
            await hidden.wait_for(1, timeout=5)
        assert "course not found" in str(hidden.error)
        # B's instructor, subscribed to B's own course, hears nothing of A's activity.
        async with subscribed(server, foreign_teacher, PROGRESS_FEED, {"c": str(other.course_id)}) as silent:
            await progress(server, student, world.lessons[0], 100)
            assert await silent.quiet(1.0) == []
        for token in (None, "garbage"):
            async with subscribed(server, token, NOTIFICATION_FEED) as anonymous:
                await anonymous.wait_for(1, timeout=5)
            assert anonymous.error is not None
            assert anonymous.received == []


async def test_the_socket_closes_when_the_token_expires(
    env_for_cli: dict[str, str], make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    world = await scene(make_tenant, make_user, db)
    tokens = TokenService(parse_jwt_keys([TEST_JWT_KEYS], "test"))
    short_lived, _ = tokens.issue(
        user_id=world.student.id,
        tenant_id=world.student.tenant.id,
        tenant_slug=world.slug,
        role="student",
        token_version=0,
        now=datetime.now(UTC) - timedelta(hours=8) + timedelta(seconds=2),
    )
    with live_server(env_for_cli) as server:
        async with subscribed(server, short_lived, NOTIFICATION_FEED) as feed:
            await feed.wait_for(1, timeout=8)
        assert close_code(feed.error) == 4401


@pytest.mark.parametrize("placement", ["pool", "silo"])
async def test_resume_after_reconnect_delivers_missed_events_once(
    env_for_cli: dict[str, str], make_tenant: TenantFactory, make_user: PersonFactory, db: Database, placement: str
) -> None:
    """Live updates and resuming work alike whichever placement holds the tenant."""
    world = await scene(functools.partial(make_tenant, placement=placement), make_user, db)
    with live_server(env_for_cli) as server:
        teacher = await server.login(world.slug, world.teacher.email, PASSWORD)
        student = await server.login(world.slug, world.student.email, PASSWORD)
        async with subscribed(server, teacher, PROGRESS_FEED, {"c": str(world.course_id)}) as first:
            await progress(server, student, world.lessons[0], 100)
            last_seen = (await first.wait_for(1))[0]["courseProgressUpdates"]["eventId"]
        for lesson in world.lessons[1:3]:  # while the instructor is away
            await progress(server, student, lesson, 100)
        variables = {"c": str(world.course_id), "after": last_seen}
        async with subscribed(server, teacher, PROGRESS_FEED, variables) as resumed:
            await progress(server, student, world.lessons[3], 100)
            await resumed.wait_for(3)
            await resumed.quiet(0.5)
        assert updates(resumed.received) == [(str(lesson), 100) for lesson in world.lessons[1:]]


@pytest.mark.parametrize("bus", ["postgres", "redis"])
async def test_two_processes_share_the_bus(
    env_for_cli: dict[str, str], make_tenant: TenantFactory, make_user: PersonFactory, db: Database, bus: str
) -> None:
    url = "postgres" if bus == "postgres" else os.environ.get("LMS_TEST_REDIS_URL")
    if url is None:
        pytest.skip("LMS_TEST_REDIS_URL is not set: no Redis to share between processes")
    world = await scene(make_tenant, make_user, db)
    with live_server(env_for_cli, url) as watcher_side, live_server(env_for_cli, url) as writer_side:
        teacher = await watcher_side.login(world.slug, world.teacher.email, PASSWORD)
        student = await writer_side.login(world.slug, world.student.email, PASSWORD)
        async with subscribed(watcher_side, teacher, PROGRESS_FEED, {"c": str(world.course_id)}) as feed:
            await progress(writer_side, student, world.lessons[0], 60)
            received = await feed.wait_for(1)
        assert updates(received) == [(str(world.lessons[0]), 60)]


async def test_graceful_shutdown_closes_sockets(
    env_for_cli: dict[str, str], make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    world = await scene(make_tenant, make_user, db)
    with live_server(env_for_cli) as server:
        student = await server.login(world.slug, world.student.email, PASSWORD)
        async with subscribed(server, student, NOTIFICATION_FEED) as feed:
            server.process.terminate()
            started = asyncio.get_running_loop().time()
            await feed.wait_for(1, timeout=15)
            assert close_code(feed.error) in (1001, 1012), feed.error
            assert asyncio.get_running_loop().time() - started < 12
        assert server.process.wait(timeout=15) is not None


async def test_query_limits_apply_over_websockets(
    env_for_cli: dict[str, str], make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    world = await scene(make_tenant, make_user, db)
    aliases = " ".join(f"a{n}: userId" for n in range(16))  # the free plan allows 15
    document = f"subscription($c: ID!) {{ courseProgressUpdates(courseId: $c) {{ {aliases} }} }}"
    with live_server(env_for_cli) as server:
        teacher = await server.login(world.slug, world.teacher.email, PASSWORD)
        async with subscribed(server, teacher, document, {"c": str(world.course_id)}) as feed:
            await feed.wait_for(1, timeout=5)
        assert "aliases" in str(feed.error)
        assert feed.received == []


async def test_subscribers_of_one_event_share_an_execution_only_for_the_same_document(
    env_for_cli: dict[str, str], make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    """Same document and variables: one execution serves all; another selection gets its own."""
    world = await scene(make_tenant, make_user, db)
    narrow = "subscription($c: ID!) { courseProgressUpdates(courseId: $c) { progressPct } }"
    with live_server(env_for_cli) as server:
        teacher = await server.login(world.slug, world.teacher.email, PASSWORD)
        student = await server.login(world.slug, world.student.email, PASSWORD)
        variables = {"c": str(world.course_id)}
        async with (
            subscribed(server, teacher, PROGRESS_FEED, variables, TRANSPORT_WS) as first,
            subscribed(server, teacher, PROGRESS_FEED, variables, LEGACY_WS) as second,
            subscribed(server, teacher, narrow, variables, TRANSPORT_WS) as third,
        ):
            await progress(server, student, world.lessons[1], 70)
            received = [await feed.wait_for(1) for feed in (first, second, third)]
    assert received[0] == received[1]
    assert updates(received[0]) == [(str(world.lessons[1]), 70)]
    assert received[2] == [{"courseProgressUpdates": {"progressPct": 70}}]
