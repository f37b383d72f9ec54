"""A registered document asked for by its id, against the same document sent as text:
python -m bench.documents [--quick]. One server process, the two kinds of request in
interleaved rounds:

- warm: the dashboard and the catalogue again and again; both are answered from the document
  caches, so what differs is the request's size and finding the document by id;
- first sight: every request a document this process has not seen (catalogue pages under
  distinct operation names, one set registered, a twin set sent as text): the text is parsed
  and validated, the registered document is read from the database and parsed but not
  validated.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import httpx

from bench import data
from bench.__main__ import CATALOGUE, DASHBOARD, tokens_for
from bench.harness import CONSOLE_SCRIPT, bench_database, run_server
from bench.load import Contender, drive, graphql_call, interleaved

LABELS = {"by_id": "registered, by id", "as_text": "as text"}
SCENARIOS = ("dashboard", "catalogue", "first sight")


def first_sight(prefix: str, n: int) -> str:
    """Distinct documents of the same shape and size (the catalogue page)."""
    return (
        f"query Page{prefix}{n:05d} {{ {prefix}{n:05d}: courses(pagination: {{first: 20}}) "
        "{ edges { node { id title instructor { fullName } modules { id } } } } }"
    )


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def register(owner_url: str, slug: str, documents: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        manifest = Path(scratch) / "persisted-documents.json"
        manifest.write_text(json.dumps(documents))
        subprocess.run(
            [CONSOLE_SCRIPT, "documents", "add", str(manifest), "--tenant", slug],
            env={**os.environ, "LMS_DATABASE_URL": owner_url},
            check=True,
            stdout=subprocess.DEVNULL,
        )


async def main(args: argparse.Namespace) -> dict[str, Any]:
    total, rounds, concurrency = (240, 2, 8) if args.quick else (3000, 4, 16)
    sizes = data.Sizes(tenants=10, students=400, courses=60) if args.quick else data.Sizes(tenants=10)
    results: dict[str, Any] = {"requests": total, "rounds": rounds, "concurrency": concurrency}
    with bench_database() as owner_url:
        prepared = data.prepare(owner_url, sizes)
        tokens, _ = tokens_for(prepared.owner_conninfo, prepared.dataset, 200)
        ids = {"dashboard": sha256(DASHBOARD), "catalogue": sha256(CATALOGUE)}
        fresh = [first_sight("A", n) for n in range(total)]  # registered
        twins = [first_sight("B", n) for n in range(total)]  # sent as text
        documents = {ids["dashboard"]: DASHBOARD, ids["catalogue"]: CATALOGUE} | {sha256(d): d for d in fresh}
        register(owner_url, prepared.dataset.slug, documents)
        with run_server(owner_url, LMS_BENCH="1") as server:
            async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
                for name, query in (("dashboard", DASHBOARD), ("catalogue", CATALOGUE)):
                    contenders = {
                        "by_id": Contender(
                            graphql_call(http, query, tokens, document_id=ids[name]), [server.process.pid]
                        ),
                        "as_text": Contender(graphql_call(http, query, tokens), [server.process.pid]),
                    }
                    for contender in contenders.values():
                        await drive(contender.call, 50, concurrency)
                    runs = await interleaved(contenders, total, concurrency, rounds)
                    results[name] = {label: run.summary() for label, run in runs.items()}
                    results[name]["request_bytes"] = {"by_id": len(ids[name]) + 40, "as_text": len(query) + 40}
                results["first sight"] = await _first_sight(http, server.process.pid, tokens, fresh, twins, total)
    return results


async def _first_sight(
    http: httpx.AsyncClient, pid: int, tokens: list[str], fresh: list[str], twins: list[str], total: int
) -> dict[str, Any]:
    async def by_id(n: int) -> Any:
        return await graphql_call(http, fresh[n], tokens, document_id=sha256(fresh[n]))(n)

    async def as_text(n: int) -> Any:
        return await graphql_call(http, twins[n], tokens)(n)

    contenders = {"by_id": Contender(by_id, [pid]), "as_text": Contender(as_text, [pid])}
    # Rounds of one at a time: the same documents' turn comes to each once.
    runs = await interleaved(contenders, total, 1, 4)
    found: dict[str, Any] = {label: run.summary() for label, run in runs.items()}
    found["request_bytes"] = {"by_id": 64 + 40, "as_text": len(twins[0]) + 40}
    return found


def table(results: dict[str, Any]) -> str:
    lines = [
        "| document | sent | rps | p50 ms | p99 ms | server CPU ms/request | request body bytes (about) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in SCENARIOS:
        for label, run in results[name].items():
            if label == "request_bytes":
                continue
            lines.append(
                f"| {name} | {LABELS[label]} | {run['rps']} | {run['p50_ms']} | {run['p99_ms']} | "
                f"{run['server_cpu_ms']} | {results[name]['request_bytes'][label]} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small data, fewer requests")
    outcome = asyncio.run(main(parser.parse_args()))
    print(table(outcome))
    print(json.dumps(outcome, indent=2))
