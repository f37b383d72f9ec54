"""Live fan-out: idle subscribed sockets per process (RSS per socket), and commit->delivery
latency with N subscribers. Run: python -m bench.live [--subscribers 1000] [--idle 10000]."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
import uuid
from typing import Any

import httpx
import psutil
import websockets

from bench.harness import Server, bench_database, percentile, raise_file_limit, run_server
from lms_graphql.auth.viewer import Viewer
from lms_graphql.config import DEFAULT_APP_ROLE
from lms_graphql.courses.service import create_course, create_lesson, create_module, publish_course
from lms_graphql.enrollments.service import enroll
from lms_graphql.kit.db import Database, derive_app_password, normalize_url
from lms_graphql.migrate import migrate
from lms_graphql.tenancy.service import create_tenant
from lms_graphql.users.service import create_user

PASSWORD = "bench-password"
FEED = "subscription($c: ID!) { courseProgressUpdates(courseId: $c) { progressPct eventId } }"
PROGRESS = "mutation($l: ID!, $p: Int!) { updateLessonProgress(lessonId: $l, progress: $p) { progressPct } }"


async def seed(owner_url: str) -> tuple[str, uuid.UUID, list[uuid.UUID]]:
    owner = normalize_url(owner_url)
    migrate(owner, app_role=DEFAULT_APP_ROLE, app_password=derive_app_password(owner, DEFAULT_APP_ROLE))
    return await seed_into(owner_url)


async def seed_into(owner_url: str) -> tuple[str, uuid.UUID, list[uuid.UUID]]:
    """A tenant 'bench' with a teacher, a student and a published course (the database is migrated)."""
    owner = normalize_url(owner_url)
    password = derive_app_password(owner, DEFAULT_APP_ROLE)
    db = Database(owner.set(username=DEFAULT_APP_ROLE, password=password))
    try:
        async with db.platform_transaction() as session:
            tenant = await create_tenant(session, slug="bench", name="Bench", plan="enterprise", max_users=100_000)
        async with db.tenant_transaction(tenant.id) as session:
            teacher = await create_user(
                session, tenant, email="teacher@bench.example", full_name="T", role="instructor", password=PASSWORD
            )
            student = await create_user(
                session, tenant, email="student@bench.example", full_name="S", role="student", password=PASSWORD
            )
            teaching = Viewer(user=teacher, home_tenant_id=tenant.id)
            course = await create_course(
                session, tenant, teaching, title="Live", slug=None, description=None, max_enrollment=None,
                instructor_id=None,
            )  # fmt: skip
            module = await create_module(session, tenant, teaching, course_id=course.id, title="M", position=None)
            lessons = [
                (await create_lesson(
                    session, tenant, teaching, module_id=module.id, title=f"L{n}", content_type="text",
                    content_ref=None, duration_min=None, position=None,
                )).id
                for n in range(2)
            ]  # fmt: skip
            await publish_course(session, tenant, teaching, course.id)
            await enroll(session, tenant, Viewer(user=student, home_tenant_id=tenant.id), course.id)
        return "bench", course.id, lessons
    finally:
        await db.dispose()


async def login(server: Server, email: str) -> str:
    async with httpx.AsyncClient(base_url=server.base) as http:
        reply = await http.post(
            "/graphql",
            json={"query": f'mutation {{ login(email: "{email}", password: "{PASSWORD}") {{ token }} }}'},
            headers={"X-Tenant-ID": "bench"},
        )
    return str(reply.json()["data"]["login"]["token"])


async def open_subscriber(server: Server, token: str, course_id: uuid.UUID) -> Any:
    socket = await websockets.connect(server.ws_url, subprotocols=["graphql-transport-ws"], max_queue=None)  # type: ignore[list-item]
    await socket.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
    ack = json.loads(await socket.recv())
    assert ack["type"] == "connection_ack", ack
    payload = {"query": FEED, "variables": {"c": str(course_id)}}
    await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
    return socket


async def open_many(server: Server, token: str, course_id: uuid.UUID, count: int) -> list[Any]:
    sockets: list[Any] = []
    for start in range(0, count, 200):
        sockets += await asyncio.gather(
            *[open_subscriber(server, token, course_id) for _ in range(min(200, count - start))]
        )
    return sockets


def rss(server: Server) -> int:
    process = psutil.Process(server.process.pid)
    return int(process.memory_info().rss + sum(c.memory_info().rss for c in process.children(recursive=True)))


def cpu_seconds(server: Server) -> float:
    """CPU time used so far by the server's processes (its workers included)."""
    process = psutil.Process(server.process.pid)
    return sum(sum(p.cpu_times()[:2]) for p in [process, *process.children(recursive=True)])


async def idle_sockets(server: Server, token: str, course_id: uuid.UUID, count: int) -> dict[str, Any]:
    before = rss(server)
    started = time.perf_counter()
    sockets = await open_many(server, token, course_id, count)
    opened = time.perf_counter() - started
    await asyncio.sleep(2)
    after = rss(server)
    for socket in sockets:
        await socket.close()
    return {
        "idle_sockets": count,
        "open_seconds": round(opened, 1),
        "server_rss_before_mb": round(before / 2**20, 1),
        "server_rss_after_mb": round(after / 2**20, 1),
        "rss_per_socket_kb": round((after - before) / count / 1024, 1),
    }


async def fan_out(server: Server, teacher: str, student: str, course_id: uuid.UUID, lesson: uuid.UUID,
                  subscribers: int, updates: int) -> dict[str, Any]:  # fmt: skip
    """Commit -> delivery of ``updates`` progress events to every subscriber.

    A subscription is set up on the server after its subscribe message is sent (authorised,
    the course read, the feed joined), and the lesson's progress only grows: the first
    percents go unmeasured until every socket has received one, so setting up the
    subscriptions is not counted as fan-out."""
    sockets = await open_many(server, teacher, course_id, subscribers)
    sent: dict[int, float] = {}  # measured percents only
    answered: dict[int, float] = {}
    latencies: list[float] = []
    warm: set[int] = set()
    all_warm = asyncio.Event()

    async def listen(index: int, socket: Any) -> None:
        received = 0
        while received < updates:
            message = json.loads(await socket.recv())
            pct = message["payload"]["data"]["courseProgressUpdates"]["progressPct"]
            warm.add(index)
            if len(warm) == len(sockets):
                all_warm.set()
            if pct in sent:
                latencies.append(time.perf_counter() - sent[pct])
                received += 1

    listeners = [asyncio.create_task(listen(index, socket)) for index, socket in enumerate(sockets)]
    async with httpx.AsyncClient(base_url=server.base, headers={"Authorization": f"Bearer {student}"}) as http:

        async def update(pct: int) -> None:
            await http.post("/graphql", json={"query": PROGRESS, "variables": {"l": str(lesson), "p": pct}})

        warm_ups = 0
        while not all_warm.is_set():
            warm_ups += 1
            assert warm_ups + updates <= 100, f"{len(sockets) - len(warm)} subscribers never received an update"
            await update(warm_ups)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(all_warm.wait(), 1.0)
        await asyncio.sleep(0.5)
        cpu_before, client_before = cpu_seconds(server), time.process_time()
        for pct in range(warm_ups + 1, warm_ups + updates + 1):
            sent[pct] = time.perf_counter()
            await update(pct)
            answered[pct] = time.perf_counter() - sent[pct]
            await asyncio.sleep(0.05)
    await asyncio.wait_for(asyncio.gather(*listeners), 60)
    cpu, client_cpu = cpu_seconds(server) - cpu_before, time.process_time() - client_before
    for socket in sockets:
        await socket.close()
    ms = [value * 1000 for value in latencies]
    mutation_ms = [value * 1000 for value in answered.values()]
    return {
        "subscribers": subscribers,
        "updates": updates,
        "deliveries": len(ms),
        "send_to_delivery_p50_ms": round(percentile(ms, 0.5), 1),
        "send_to_delivery_p99_ms": round(percentile(ms, 0.99), 1),
        "mutation_response_p50_ms": round(percentile(mutation_ms, 0.5), 1),
        # Everything the server did meanwhile (the mutations too), per delivered message.
        "server_cpu_us_per_delivery": round(cpu / len(ms) * 1e6, 1),
        # This load generator receiving them, on the same cores.
        "client_cpu_us_per_delivery": round(client_cpu / len(ms) * 1e6, 1),
    }


async def main(args: argparse.Namespace) -> None:
    limit = raise_file_limit()
    with bench_database() as owner_url:
        _, course_id, lessons = await seed(owner_url)
        env = {"LMS_WS_MAX_CONNECTIONS_PER_USER": str(args.idle + args.subscribers), "LMS_BUS_QUEUE_SIZE": "10000"}
        workers = ("--workers", str(args.workers)) if args.workers > 1 else ()
        with run_server(owner_url, *workers, **env) as server:
            teacher = await login(server, "teacher@bench.example")
            student = await login(server, "student@bench.example")
            results = {
                "file_limit": limit,
                "fan_out": await fan_out(
                    server, teacher, student, course_id, lessons[0], args.subscribers, args.updates
                ),
            }
            if args.idle:
                results["idle"] = await idle_sockets(server, teacher, course_id, args.idle)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--updates", type=int, default=30)
    parser.add_argument("--idle", type=int, default=10_000, help="idle sockets to open (0: skip)")
    parser.add_argument("--workers", type=int, default=1, help="server processes (idle RSS then covers them all)")
    asyncio.run(main(parser.parse_args()))
