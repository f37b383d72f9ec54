"""The bench's tables: each scenario against its baseline, and our server beside the peer."""

from __future__ import annotations

from typing import Any

LABELS = {"server": "this server", "peer": "PostGraphile", "raw_sql": "raw psycopg (our SQL)"}


def table(results: dict[str, Any]) -> str:
    lines = [
        "| scenario | rps | p50 ms | p95 ms | p99 ms | SQL/request | baseline rps | ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    bare = results["bare_http"]
    for name, entry in results["scenarios"].items():
        server = entry["server"]
        base = entry.get("raw_sql") or bare
        ratio = round(server["rps"] / base["rps"], 2) if base["rps"] else "-"
        label = "raw SQL" if "raw_sql" in entry else "bare HTTP"
        lines.append(
            f"| {name} | {server['rps']} | {server['p50_ms']} | {server['p95_ms']} | {server['p99_ms']} | "
            f"{server['sql_per_request']} | {base['rps']} ({label}) | {ratio} |"
        )
    lines.append(
        f"| bare Starlette | {bare['rps']} | {bare['p50_ms']} | {bare['p95_ms']} | {bare['p99_ms']} | - | - | - |"
    )
    return "\n".join(lines)


def shown(value: Any) -> str:
    return "-" if value is None else str(value)


def side_by_side(results: dict[str, Any]) -> str:
    """Per read scenario: our server, PostGraphile and the raw replay of our SQL, measured in
    interleaved rounds; then how the two responses compare, value by value."""
    peer = results.get("peer", {})
    lines = []
    if "skipped" in peer:
        lines.append(f"PostGraphile peer skipped: {peer['skipped']}")
    lines += [
        "| scenario | contender | rps | p50 ms | p99 ms | errors | bytes/response | server CPU ms/request "
        "| PostgreSQL CPU ms/request | load generator CPU ms/request | rps / PostGraphile |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in ("dashboard", "catalogue"):
        entry = results["scenarios"][name]
        theirs = entry.get("peer", {}).get("rps")
        for label, run in entry.items():
            ratio = round(run["rps"] / theirs, 2) if theirs else None
            lines.append(
                f"| {name} | {LABELS[label]} | {run['rps']} | {run['p50_ms']} | {run['p99_ms']} | {run['errors']} | "
                f"{shown(run['bytes'])} | {shown(run['server_cpu_ms'])} | {shown(run['database_cpu_ms'])} | "
                f"{shown(run.get('client_cpu_ms'))} | {shown(ratio)} |"
            )
    for name, found in peer.get("equivalence", {}).items():
        lines.append(
            f"{name}, one student: this server {found['ours_values']} values in {found['ours_bytes']} bytes, "
            f"PostGraphile {found['peer_values']} values in {found['peer_bytes']} bytes "
            f"(bytes x{found['bytes_ratio']}); {found['equal_values']} equal, only ours {found['only_ours']} "
            f"{found['only_ours_examples']}, only PostGraphile {found['only_peer']} {found['only_peer_examples']}"
        )
    return "\n".join(lines)
