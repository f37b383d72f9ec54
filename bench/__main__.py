"""The benchmark: python -m bench [--quick] [--no-peer] [--workers N]. See BENCHMARKS.md."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import subprocess
import sys
import time
import uuid
from typing import Any

import httpx
import psutil
import psycopg

from bench import data, live, peer
from bench.cpu import postmaster_pid
from bench.equivalence import compare
from bench.harness import BENCH_KEYS, bench_database, free_port, raise_file_limit, run_server
from bench.limits import QUERIES
from bench.load import Contender, Outcome, capture, drive, graphql_call, interleaved, raw_sql
from bench.report import side_by_side, table
from lms_graphql.auth.tokens import TokenService
from lms_graphql.config import parse_jwt_keys

DASHBOARD = QUERIES["full dashboard"]
CATALOGUE = (
    "{ courses(pagination: {first: 20}) { edges { node { id title instructor { fullName } modules { id } } } } }"
)
PROGRESS = "mutation($l: ID!, $p: Int!) { updateLessonProgress(lessonId: $l, progress: $p) { progressPct } }"


def tokens_for(conninfo: str, tenant: data.Dataset, count: int, role: str = "student") -> tuple[list[str], list[Any]]:
    service = TokenService(parse_jwt_keys([BENCH_KEYS], "bench"))
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT id FROM users WHERE tenant_id = %s AND role = %s ORDER BY email LIMIT %s",
            (tenant.tenant_id, role, count),
        ).fetchall()
    tokens = [
        service.issue(user_id=row[0], tenant_id=tenant.tenant_id, tenant_slug=tenant.slug, role=role, token_version=0)[
            0
        ]
        for row in rows
    ]
    return tokens, [row[0] for row in rows]


def lessons_for(conninfo: str, tenant: data.Dataset, users: list[Any]) -> list[str]:
    """A lesson of each user's first enrolled course (for progress writes)."""
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            """SELECT DISTINCT ON (e.user_id) e.user_id, l.id FROM enrollments e
               JOIN lessons l ON l.tenant_id = e.tenant_id AND l.course_id = e.course_id
               WHERE e.tenant_id = %s AND e.user_id = ANY(%s) ORDER BY e.user_id, l.position DESC""",
            (tenant.tenant_id, users),
        ).fetchall()
    by_user = {row[0]: str(row[1]) for row in rows}
    return [by_user[user] for user in users if user in by_user]


def learner_with(conninfo: str, tenant: data.Dataset, courses: int) -> str:
    """A new student enrolled in ``courses`` courses, and its token."""
    user = uuid.uuid4()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (tenant_id, id, email, full_name, role) VALUES (%s, %s, %s, 'Probe', 'student')",
            (tenant.tenant_id, user, f"probe-{user}@big.example"),
        )
        conn.execute(
            "INSERT INTO enrollments (tenant_id, user_id, course_id) SELECT %s, %s, id FROM courses "
            "WHERE tenant_id = %s ORDER BY slug LIMIT %s",
            (tenant.tenant_id, user, tenant.tenant_id, courses),
        )
    service = TokenService(parse_jwt_keys([BENCH_KEYS], "bench"))
    return service.issue(
        user_id=user, tenant_id=tenant.tenant_id, tenant_slug=tenant.slug, role="student", token_version=0
    )[0]


async def bare_baseline(total: int, concurrency: int, workers: int) -> dict[str, Any]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "bench.bare", str(port), str(workers)])
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            for _ in range(100):
                try:
                    await http.get("/readyz")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)

            async def call(n: int) -> Outcome:
                response = await http.post("/graphql", json={"query": "{ ok }"})
                return response.status_code == 200, None, len(response.content)

            return (await drive(call, total, concurrency)).summary()
    finally:
        process.terminate()
        process.wait(timeout=10)


def node_version(node: str) -> str:
    return subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()


def start_peer(
    stack: contextlib.ExitStack, app_conninfo: str, workers: int, results: dict[str, Any]
) -> tuple[str, int] | None:
    """PostGraphile on as many processes as our server (its base URL and pid), or None with the
    reason in the results."""
    try:
        node = peer.install()
        base, pid = stack.enter_context(peer.run_peer(node, app_conninfo, workers))
    except peer.PeerUnavailable as exc:
        results["peer"] = {"skipped": str(exc)}
        print(f"PostGraphile peer skipped: {exc}", file=sys.stderr)
        return None
    results["peer"] = {"name": f"PostGraphile {peer.version()}, Node {node_version(node)} cluster", "workers": workers}
    return base, pid


async def equivalence(
    ours: httpx.AsyncClient, theirs: httpx.AsyncClient, token: str, variables: dict[str, Any]
) -> dict[str, Any]:
    """Our dashboard and catalogue beside the peer's, for the same student, value by value."""
    found = {}
    headers = {"Authorization": f"Bearer {token}"}
    for name, query in (("dashboard", DASHBOARD), ("catalogue", CATALOGUE)):
        mine = await ours.post("/graphql", json={"query": query}, headers=headers)
        other = await theirs.post(
            "/graphql", json={"query": peer.QUERIES[name], "variables": variables}, headers=headers
        )
        found[name] = compare(mine.content, mine.json()["data"], other.content, other.json()["data"])
    return found


async def main(args: argparse.Namespace) -> dict[str, Any]:
    quick = args.quick
    sizes = data.Sizes(tenants=10, students=400, courses=60) if quick else data.Sizes(tenants=10)
    total, concurrency, rounds = (150, 8, 3) if quick else (2000, 16, 4)
    scale_to = 1_000 if quick else 10_000
    raise_file_limit()
    results: dict[str, Any] = {
        "machine": {
            "cores": os.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "sizes": {**sizes.__dict__, "requests": total, "concurrency": concurrency, "rounds": rounds},
    }
    started = time.perf_counter()
    with bench_database() as owner_url:
        prepared = data.prepare(owner_url, sizes)
        owner_conninfo, app_conninfo, dataset = prepared.owner_conninfo, prepared.app_conninfo, prepared.dataset
        results["generate_seconds"] = prepared.generate_seconds
        tokens, users = tokens_for(owner_conninfo, dataset, min(1000, sizes.students))
        lessons = lessons_for(owner_conninfo, dataset, users)
        one, fifty = learner_with(owner_conninfo, dataset, 1), learner_with(owner_conninfo, dataset, 50)
        env = {"LMS_BENCH": "1", "LMS_WS_MAX_CONNECTIONS_PER_USER": "1000000", "LMS_BUS_QUEUE_SIZE": "100000"}
        workers = ("--workers", str(args.workers)) if args.workers > 1 else ()
        database = postmaster_pid(owner_conninfo)
        with run_server(owner_url, *workers, **env) as server, contextlib.ExitStack() as stack:
            results["workers"] = args.workers
            peer_server = start_peer(stack, app_conninfo, args.workers, results) if args.peer else None
            if not args.peer:
                results["peer"] = {"skipped": "--no-peer"}
            limits = httpx.Limits(max_connections=concurrency * 2)
            async with (
                httpx.AsyncClient(base_url=server.base, limits=limits, timeout=60) as http,
                httpx.AsyncClient(
                    base_url=peer_server[0] if peer_server else "", limits=limits, timeout=60
                ) as peer_http,
            ):
                scenarios: dict[str, Any] = {}
                for name, query in (("dashboard", DASHBOARD), ("catalogue", CATALOGUE)):
                    contenders = {"server": Contender(graphql_call(http, query, tokens), [server.process.pid])}
                    if peer_server:
                        per_request = peer.variables_for(name, dataset.tenant_id, users)
                        contenders["peer"] = Contender(
                            graphql_call(peer_http, peer.QUERIES[name], tokens, per_request), [peer_server[1]]
                        )
                    for contender in contenders.values():
                        await drive(contender.call, 50, concurrency)  # warm up
                    captured = [await capture(http, query, token) for token in tokens[:20]]
                    async with raw_sql(app_conninfo, captured, concurrency) as replay:
                        contenders["raw_sql"] = Contender(replay)
                        runs = await interleaved(contenders, total, concurrency, rounds, database)
                    scenarios[name] = {label: run.summary() for label, run in runs.items()}
                writes = await drive(
                    graphql_call(
                        http,
                        PROGRESS,
                        tokens[: len(lessons)],
                        lambda n: {"l": lessons[n % len(lessons)], "p": 1 + n % 100},
                    ),
                    total,
                    concurrency,
                )
                scenarios["progress_writes"] = {"server": writes.summary()}
                if peer_server:
                    # After the writes: the first students now have recent activity too.
                    first = peer.variables_for("dashboard", dataset.tenant_id, users)(0)
                    results["peer"]["equivalence"] = await equivalence(http, peer_http, tokens[0], first)
                stack.close()  # the peer's part is over
                counts = {}
                for label, token in (("1 course", one), ("50 courses", fifty)):
                    response = await http.post(
                        "/graphql", json={"query": DASHBOARD}, headers={"Authorization": f"Bearer {token}"}
                    )
                    counts[label] = int(response.headers["x-sql-statements"])
                results["dashboard_statements"] = counts
                # The writes above leave dead rows: vacuum now, not autovacuum during one of the
                # two measurements compared next.
                with psycopg.connect(owner_conninfo, autocommit=True) as conn:
                    conn.execute("VACUUM (ANALYZE) enrollments, lesson_progress, domain_events")
                small = await drive(graphql_call(http, DASHBOARD, tokens), total // 2, concurrency)
                with psycopg.connect(owner_conninfo, autocommit=True) as conn:
                    data.add_small_tenants(conn, sizes.tenants, scale_to - sizes.tenants)
                large = await drive(graphql_call(http, DASHBOARD, tokens), total // 2, concurrency)
                results["tenant_scale"] = {
                    f"{sizes.tenants} tenants p50_ms": small.summary()["p50_ms"],
                    f"{scale_to} tenants p50_ms": large.summary()["p50_ms"],
                }
            results["scenarios"] = scenarios
            results["bare_http"] = await bare_baseline(total, concurrency, args.workers)
            _, course_id, live_lessons = await live.seed_into(owner_url)
            subscribers, idle, updates = (100, 1_000, 10) if quick else (1_000, 10_000, 20)

            # Progress only grows: each fan-out run moves a lesson of its own from 0 to ``updates``.
            async def fan_out(lesson: uuid.UUID) -> dict[str, Any]:
                teacher = await live.login(server, "teacher@bench.example")
                student = await live.login(server, "student@bench.example")
                return await live.fan_out(server, teacher, student, course_id, lesson, subscribers, updates)

            results["live"] = {f"fan_out_{args.workers}_workers": await fan_out(live_lessons[0])}
        # Per-process measures: a server of one.
        with run_server(owner_url, **env) as server:
            results["live"]["fan_out"] = await fan_out(live_lessons[1])
            teacher = await live.login(server, "teacher@bench.example")
            results["live"]["idle"] = await live.idle_sockets(server, teacher, course_id, idle)
    results["seconds"] = round(time.perf_counter() - started, 1)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, under two minutes (CI smoke test)")
    parser.add_argument("--json", action="store_true", help="print the raw results as JSON too")
    parser.add_argument(
        "--no-peer",
        dest="peer",
        action="store_false",
        help="skip PostGraphile (the peer runs by default when node and npm are installed)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="server processes for the HTTP scenarios (default: cores)",
    )
    arguments = parser.parse_args()
    outcome = asyncio.run(main(arguments))
    print(table(outcome))
    print(side_by_side(outcome))
    print(
        json.dumps({k: v for k, v in outcome.items() if k != "scenarios"} if not arguments.json else outcome, indent=2)
    )
