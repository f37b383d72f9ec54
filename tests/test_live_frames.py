"""The messages of shared live deliveries, byte for byte, through a real server and raw sockets:
what strawberry's handlers send for a result (the endpoint's orjson encoding, keys in the
protocol's order), each subscriber's own id, and per subscriber authorisation."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
import psycopg
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from lms_graphql.kit.db import Database
from tests.support.people import PASSWORD, PersonFactory, TenantFactory
from tests.support.scenes import PROGRESS_FEED, Scene, progress, scene
from tests.support.servers import LEGACY_WS, TRANSPORT_WS, LiveServer, live_server

pytestmark = pytest.mark.slow

NARROW = "subscription($c: ID!) { courseProgressUpdates(courseId: $c) { progressPct } }"
MAYBE_LESSON = (
    "subscription($c: ID!, $lesson: Boolean!) { courseProgressUpdates(courseId: $c) "
    "{ progressPct lessonId @include(if: $lesson) } }"
)


class RawSocket:
    """One GraphQL websocket spoken by hand: the text of every message is kept."""

    def __init__(self, connection: ClientConnection, protocol: str) -> None:
        self.connection, self.protocol = connection, protocol

    async def subscribe(self, operation_id: str, query: str, variables: dict[str, Any]) -> None:
        kind = "subscribe" if self.protocol == TRANSPORT_WS else "start"
        payload = {"query": query, "variables": variables}
        await self.connection.send(json.dumps({"id": operation_id, "type": kind, "payload": payload}))

    async def texts(self, count: int) -> list[str]:
        return [str(await asyncio.wait_for(self.connection.recv(), 10)) for _ in range(count)]

    async def quiet(self, seconds: float) -> list[str]:
        received = []
        try:
            async with asyncio.timeout(seconds):
                while True:
                    received.append(str(await self.connection.recv()))
        except TimeoutError:
            return received


@asynccontextmanager
async def raw_socket(server: LiveServer, token: str, protocol: str) -> AsyncIterator[RawSocket]:
    async with websockets.connect(server.ws_url, subprotocols=[protocol]) as connection:  # type: ignore[list-item]
        await connection.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
        assert json.loads(await asyncio.wait_for(connection.recv(), 5))["type"] == "connection_ack"
        yield RawSocket(connection, protocol)


def message(protocol: str, operation_id: str, payload: dict[str, Any]) -> str:
    """What strawberry's handler sends for ``payload``: its dict, encoded by the endpoint (orjson)."""
    if protocol == TRANSPORT_WS:
        return orjson.dumps({"id": operation_id, "type": "next", "payload": payload}).decode()
    return orjson.dumps({"type": "data", "id": operation_id, "payload": payload}).decode()


def full_update(world: Scene, percent: int, event_id: str) -> dict[str, Any]:
    """PROGRESS_FEED's selection, in the document's order."""
    update = {
        "courseId": str(world.course_id),
        "userId": str(world.student.id),
        "lessonId": str(world.lessons[0]),
        "status": "COMPLETED" if percent == 100 else "IN_PROGRESS",
        "progressPct": percent,
        "coursePercent": 25.0 if percent == 100 else 0.0,
        "eventId": event_id,
    }
    return {"data": {"courseProgressUpdates": update}}


def event_id(text: str) -> str:
    return str(json.loads(text)["payload"]["data"]["courseProgressUpdates"]["eventId"])


async def test_subscribers_of_one_document_get_strawberrys_bytes_with_their_own_ids(
    env_for_cli: dict[str, str], make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    world = await scene(make_tenant, make_user, db)
    variables = {"c": str(world.course_id)}
    # An id that JSON must escape, on both protocols.
    ids = {TRANSPORT_WS: ["1", 'a "quoted" id', "é"], LEGACY_WS: ["1", "7\\8"]}
    with live_server(env_for_cli) as server:
        teacher = await server.login(world.slug, world.teacher.email, PASSWORD)
        student = await server.login(world.slug, world.student.email, PASSWORD)
        async with (
            raw_socket(server, teacher, TRANSPORT_WS) as modern,
            raw_socket(server, teacher, LEGACY_WS) as legacy,
        ):
            for socket in (modern, legacy):
                for operation_id in ids[socket.protocol]:
                    await socket.subscribe(operation_id, PROGRESS_FEED, variables)
            await asyncio.sleep(0.5)  # the subscriptions are set up
            for percent in (40, 100):
                await progress(server, student, world.lessons[0], percent)
                for socket in (modern, legacy):
                    texts = await socket.texts(len(ids[socket.protocol]))
                    eid = event_id(texts[0])
                    expected = {
                        message(socket.protocol, i, full_update(world, percent, eid)) for i in ids[socket.protocol]
                    }
                    assert set(texts) == expected


async def test_each_view_gets_its_own_message(
    env_for_cli: dict[str, str], make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    """Another selection, or the same document with other variables, is rendered on its own."""
    world = await scene(make_tenant, make_user, db)
    course = str(world.course_id)
    subscriptions: dict[str, tuple[str, dict[str, Any]]] = {
        "full": (PROGRESS_FEED, {"c": course}),
        "narrow": (NARROW, {"c": course}),
        "with-lesson": (MAYBE_LESSON, {"c": course, "lesson": True}),
        "without-lesson": (MAYBE_LESSON, {"c": course, "lesson": False}),
    }
    with live_server(env_for_cli) as server:
        teacher = await server.login(world.slug, world.teacher.email, PASSWORD)
        student = await server.login(world.slug, world.student.email, PASSWORD)
        async with raw_socket(server, teacher, TRANSPORT_WS) as socket:
            for operation_id, (query, variables) in subscriptions.items():
                await socket.subscribe(operation_id, query, variables)
            await asyncio.sleep(0.5)
            await progress(server, student, world.lessons[0], 30)
            received = {json.loads(text)["id"]: text for text in await socket.texts(len(subscriptions))}
    eid = event_id(received["full"])
    lesson = str(world.lessons[0])
    assert received == {
        "full": message(TRANSPORT_WS, "full", full_update(world, 30, eid)),
        "narrow": message(TRANSPORT_WS, "narrow", {"data": {"courseProgressUpdates": {"progressPct": 30}}}),
        "with-lesson": message(
            TRANSPORT_WS, "with-lesson", {"data": {"courseProgressUpdates": {"progressPct": 30, "lessonId": lesson}}}
        ),
        "without-lesson": message(
            TRANSPORT_WS, "without-lesson", {"data": {"courseProgressUpdates": {"progressPct": 30}}}
        ),
    }


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_subscriber_who_lost_access_is_told_and_stops_while_the_others_go_on(
    env_for_cli: dict[str, str],
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    db: Database,
    owner_conn: psycopg.Connection,
    protocol: str,
) -> None:
    world = await scene(make_tenant, make_user, db)
    admin = await make_user(world.teacher.tenant, "admin")
    variables = {"c": str(world.course_id)}
    with live_server(env_for_cli) as server:
        teacher = await server.login(world.slug, world.teacher.email, PASSWORD)
        watcher = await server.login(world.slug, admin.email, PASSWORD)
        student = await server.login(world.slug, world.student.email, PASSWORD)
        async with raw_socket(server, teacher, protocol) as kept, raw_socket(server, watcher, protocol) as lost:
            await kept.subscribe("1", PROGRESS_FEED, variables)
            await lost.subscribe("1", PROGRESS_FEED, variables)
            await asyncio.sleep(0.5)
            await progress(server, student, world.lessons[0], 20)
            assert (await kept.texts(1))[0] == (await lost.texts(1))[0]
            # Behind the server's back (no revocation on the bus): only the next event's check sees it.
            owner_conn.execute("UPDATE users SET role = 'student' WHERE id = %s", (admin.id,))
            await progress(server, student, world.lessons[0], 40)
            told = [json.loads(text) for text in await lost.texts(2)]
            assert told[0]["payload"]["data"] is None
            assert told[0]["payload"]["errors"][0]["extensions"]["code"] == "FORBIDDEN"
            assert [m["type"] for m in told] == (
                ["next", "complete"] if protocol == TRANSPORT_WS else ["data", "complete"]
            )
            await progress(server, student, world.lessons[0], 60)
            assert [
                json.loads(t)["payload"]["data"]["courseProgressUpdates"]["progressPct"] for t in await kept.texts(2)
            ] == [40, 60]
            assert await lost.quiet(0.5) == []
