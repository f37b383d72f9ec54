"""A bounded asyncio load generator over loopback, and the raw-SQL and bare-HTTP baselines."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg

from bench.harness import percentile


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        ms = [value * 1000 for value in self.latencies]
        return {
            "requests": len(self.latencies),
            "errors": self.errors,
            "rps": round(len(self.latencies) / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(percentile(ms, 0.5), 2),
            "p95_ms": round(percentile(ms, 0.95), 2),
            "p99_ms": round(percentile(ms, 0.99), 2),
            "sql_per_request": round(sum(self.statements) / len(self.statements), 1) if self.statements else None,
        }


async def drive(call: Callable[[int], Awaitable[tuple[bool, int | None]]], total: int, concurrency: int) -> Run:
    """``total`` calls, ``concurrency`` at a time; call(n) -> (ok, statements)."""
    run = Run()
    counter = iter(range(total))

    async def worker() -> None:
        for n in counter:
            started = time.perf_counter()
            try:
                ok, statements = await call(n)
            except Exception:
                ok, statements = False, None
            run.latencies.append(time.perf_counter() - started)
            if not ok:
                run.errors += 1
            if statements is not None:
                run.statements.append(statements)

    started = time.perf_counter()
    await asyncio.gather(*[worker() for _ in range(concurrency)])
    run.seconds = time.perf_counter() - started
    return run


def graphql_call(
    http: httpx.AsyncClient, query: str, tokens: list[str], variables: Callable[[int], dict[str, Any]] | None = None
) -> Callable[[int], Awaitable[tuple[bool, int | None]]]:
    async def call(n: int) -> tuple[bool, int | None]:
        response = await http.post(
            "/graphql",
            json={"query": query, "variables": variables(n) if variables else {}},
            headers={"Authorization": f"Bearer {tokens[n % len(tokens)]}"},
        )
        body = response.json()
        count = response.headers.get("x-sql-statements")
        return response.status_code == 200 and "errors" not in body, int(count) if count else None

    return call


async def capture(http: httpx.AsyncClient, query: str, token: str) -> list[list[Any]]:
    """The exact statements (with parameters) the server issued for one request."""
    response = await http.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}", "X-Bench-Capture": "1"}
    )
    return list(response.json()["extensions"]["sql"])


async def raw_sql(conninfo: str, captured: list[list[list[Any]]], total: int, concurrency: int) -> Run:
    """The ceiling: psycopg running exactly those statements, each request in one transaction
    (its captured tenant binding first), at the same concurrency."""
    connections = [await psycopg.AsyncConnection.connect(conninfo) for _ in range(concurrency)]
    free: asyncio.Queue[psycopg.AsyncConnection[Any]] = asyncio.Queue()
    for connection in connections:
        free.put_nowait(connection)

    async def call(n: int) -> tuple[bool, int | None]:
        connection = await free.get()
        try:
            async with connection.transaction():
                for statement, params in captured[n % len(captured)]:
                    await connection.execute(statement, params)
        finally:
            free.put_nowait(connection)
        return True, len(captured[n % len(captured)])

    try:
        return await drive(call, total, concurrency)
    finally:
        for connection in connections:
            await connection.close()


BARE_BODY = json.dumps({"data": {"ok": True}}).encode()
