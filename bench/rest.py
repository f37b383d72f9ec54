"""The course list through REST against the same page through GraphQL: python -m bench.rest
[--quick]. One server process, interleaved rounds, the same students and page size; GraphQL
asks for the fields REST answers (so both read the same columns of the same rows)."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

import httpx

from bench import data
from bench.__main__ import tokens_for
from bench.harness import bench_database, run_server
from bench.load import Call, Contender, Outcome, drive, graphql_call, interleaved

PAGE = 20
GRAPHQL = (
    "{ courses(pagination: {first: 20}) { edges { node { id title slug description status maxEnrollment "
    "publishedAt createdAt instructor { id } } } pageInfo { endCursor } } }"
)


def rest_call(http: httpx.AsyncClient, tokens: list[str]) -> Call:
    async def call(n: int) -> Outcome:
        response = await http.get(
            f"/api/v1/courses?first={PAGE}", headers={"Authorization": f"Bearer {tokens[n % len(tokens)]}"}
        )
        content = response.content
        return response.status_code == 200 and content.startswith(b'{"items"'), None, len(content)

    return call


async def main(args: argparse.Namespace) -> dict[str, Any]:
    total, rounds, concurrency = (240, 2, 8) if args.quick else (4000, 4, 16)
    sizes = data.Sizes(tenants=10, students=400, courses=60) if args.quick else data.Sizes(tenants=10)
    results: dict[str, Any] = {"requests": total, "rounds": rounds, "concurrency": concurrency, "page": PAGE}
    with bench_database() as owner_url:
        prepared = data.prepare(owner_url, sizes)
        tokens, _ = tokens_for(prepared.owner_conninfo, prepared.dataset, 200)
        with run_server(owner_url, LMS_BENCH="1") as server:
            async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
                contenders = {
                    "rest": Contender(rest_call(http, tokens), [server.process.pid]),
                    "graphql": Contender(graphql_call(http, GRAPHQL, tokens), [server.process.pid]),
                }
                for contender in contenders.values():
                    await drive(contender.call, 50, concurrency)
                runs = await interleaved(contenders, total, concurrency, rounds)
                results["course_list"] = {label: run.summary() for label, run in runs.items()}
    return results


def table(results: dict[str, Any]) -> str:
    lines = [
        "| course list, 20 a page | rps | p50 ms | p99 ms | server CPU ms/request | bytes |",
        "|---|---|---|---|---|---|",
    ]
    for label, run in results["course_list"].items():
        lines.append(
            f"| {label} | {run['rps']} | {run['p50_ms']} | {run['p99_ms']} | {run['server_cpu_ms']} | {run['bytes']} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small data, fewer requests")
    outcome = asyncio.run(main(parser.parse_args()))
    print(table(outcome))
    print(json.dumps(outcome, indent=2))
