"""A bounded asyncio load generator over loopback, interleaved rounds of several servers, and
the raw-SQL and bare-HTTP baselines."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg

from bench.cpu import spent_between, tree_times
from bench.harness import percentile

# What one call reports: (ok, SQL statements it issued if known, response bytes if any).
Outcome = tuple[bool, int | None, int | None]
Call = Callable[[int], Awaitable[Outcome]]


def per_request_ms(seconds: float | None, requests: int) -> float | None:
    return round(seconds * 1000 / requests, 2) if seconds is not None and requests else None


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    # CPU seconds of the server's processes and of the database server's, when measured.
    server_cpu: float | None = None
    database_cpu: float | None = None
    # CPU seconds of this load generator while it drove the run: when it nears one core per
    # request rate, it, not the server, sets the pace.
    client_cpu: float | None = None

    def absorb(self, other: Run) -> None:
        self.latencies += other.latencies
        self.statements += other.statements
        self.sizes += other.sizes
        self.errors += other.errors
        self.seconds += other.seconds
        if other.client_cpu is not None:
            self.client_cpu = (self.client_cpu or 0.0) + other.client_cpu

    def summary(self) -> dict[str, Any]:
        ms = [value * 1000 for value in self.latencies]
        requests = len(self.latencies)
        return {
            "requests": requests,
            "errors": self.errors,
            "rps": round(requests / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(percentile(ms, 0.5), 2),
            "p95_ms": round(percentile(ms, 0.95), 2),
            "p99_ms": round(percentile(ms, 0.99), 2),
            "sql_per_request": round(sum(self.statements) / len(self.statements), 1) if self.statements else None,
            "bytes": round(sum(self.sizes) / len(self.sizes)) if self.sizes else None,
            "server_cpu_ms": per_request_ms(self.server_cpu, requests),
            "database_cpu_ms": per_request_ms(self.database_cpu, requests),
            "client_cpu_ms": per_request_ms(self.client_cpu, requests),
        }


async def drive(call: Call, total: int, concurrency: int, start: int = 0) -> Run:
    """``total`` calls, ``concurrency`` at a time: call(start), call(start + 1), ..."""
    run = Run()
    counter = iter(range(start, start + total))

    async def worker() -> None:
        for n in counter:
            started = time.perf_counter()
            try:
                ok, statements, size = await call(n)
            except Exception:
                ok, statements, size = False, None, None
            run.latencies.append(time.perf_counter() - started)
            if not ok:
                run.errors += 1
            if statements is not None:
                run.statements.append(statements)
            if size is not None:
                run.sizes.append(size)

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*[worker() for _ in range(concurrency)])
    run.seconds = time.perf_counter() - started
    run.client_cpu = time.process_time() - cpu
    return run


@dataclass
class Contender:
    call: Call
    # The processes whose CPU is the server's (none for a client-side baseline).
    processes: list[int] = field(default_factory=list)


async def interleaved(
    contenders: dict[str, Contender], total: int, concurrency: int, rounds: int, database: int | None = None
) -> dict[str, Run]:
    """``total`` calls for each contender, in ``rounds`` rounds that take turns (a slow phase of
    the machine then falls on all of them); each round's CPU of the contender's processes and of
    the database server (``database``: its main process) is added up."""
    runs = {name: Run() for name in contenders}
    done = 0
    for round_number in range(rounds):
        share = total // rounds + (1 if round_number < total % rounds else 0)
        for name, contender in contenders.items():
            run = runs[name]
            before = tree_times(contender.processes), tree_times([database] if database else [])
            run.absorb(await drive(contender.call, share, concurrency, start=done))
            after = tree_times(contender.processes), tree_times([database] if database else [])
            if contender.processes:
                run.server_cpu = (run.server_cpu or 0.0) + spent_between(before[0], after[0])
            if database:
                run.database_cpu = (run.database_cpu or 0.0) + spent_between(before[1], after[1])
        done += share
    return runs


def graphql_call(
    http: httpx.AsyncClient,
    query: str,
    tokens: list[str],
    variables: Callable[[int], dict[str, Any]] | None = None,
    *,
    document_id: str | None = None,
) -> Call:
    """Posts ``query``, or with ``document_id`` the registered document's id instead of its text."""
    named = {"documentId": document_id} if document_id is not None else {"query": query}

    async def call(n: int) -> Outcome:
        response = await http.post(
            "/graphql",
            json={**named, "variables": variables(n) if variables else {}},
            headers={"Authorization": f"Bearer {tokens[n % len(tokens)]}"},
        )
        # Not parsed: decoding a 117 KB dashboard cost the load generator about as much CPU as
        # our server spends answering it. A string inside the data cannot hold the key
        # unescaped, and the answers are compared value by value once, before the runs.
        content = response.content
        count = response.headers.get("x-sql-statements")
        ok = response.status_code == 200 and content.startswith(b'{"data"') and b'"errors":' not in content
        return ok, int(count) if count else None, len(content)

    return call


async def capture(http: httpx.AsyncClient, query: str, token: str) -> list[list[Any]]:
    """The exact statements (with parameters) the server issued for one request."""
    response = await http.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}", "X-Bench-Capture": "1"}
    )
    return list(response.json()["extensions"]["sql"])


@contextlib.asynccontextmanager
async def raw_sql(conninfo: str, captured: list[list[list[Any]]], concurrency: int) -> AsyncIterator[Call]:
    """The ceiling: a call that has psycopg run exactly the statements captured for one request,
    in one transaction (its captured tenant binding first), on ``concurrency`` connections."""
    connections = [await psycopg.AsyncConnection.connect(conninfo) for _ in range(concurrency)]
    free: asyncio.Queue[psycopg.AsyncConnection[Any]] = asyncio.Queue()
    for connection in connections:
        free.put_nowait(connection)

    async def call(n: int) -> Outcome:
        statements = captured[n % len(captured)]
        connection = await free.get()
        try:
            async with connection.transaction():
                for statement, params in statements:
                    await connection.execute(statement, params)
        finally:
            free.put_nowait(connection)
        return True, len(statements), None

    try:
        yield call
    finally:
        for connection in connections:
            await connection.close()


BARE_BODY = json.dumps({"data": {"ok": True}}).encode()
