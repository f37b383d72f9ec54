"""What placements cost: python -m bench.placements [--quick].

1. The large tenant's dashboard in each placement, same data, same run, one server: measured in
   the pool, moved to a bridge, measured, moved to a silo, measured, moved back to the pool and
   measured again (the last row shows the run's drift). The moves are timed too: the whole move
   and its write-freeze window.
2. Many bridge schemas: the time to make and migrate each, what they add to the catalog, and
   the memory of a connection that has used them all (its relation and plan caches).
3. Many silo databases: the time to make and migrate each, and their size on disk.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

import httpx
import psycopg
from sqlalchemy import make_url

from bench import data
from bench.__main__ import DASHBOARD, tokens_for
from bench.harness import bench_database, run_server
from bench.load import drive, graphql_call
from lms_graphql.config import DEFAULT_APP_ROLE
from lms_graphql.kit.clusters import DEFAULT_REGION, Cluster
from lms_graphql.kit.db import derive_app_password, normalize_url
from lms_graphql.kit.homes import MAIN_CLUSTER, home_for
from lms_graphql.models.tenant import plan_features
from lms_graphql.placement.moves import move_tenant
from lms_graphql.placement.provision import drop_home
from lms_graphql.placement.upgrades import upgrade_placed_tenant

# The system catalogs' size, and how many relations they describe.
CATALOG_BYTES = (
    "SELECT (SELECT sum(pg_total_relation_size(oid))::bigint FROM pg_class "
    "WHERE relnamespace = 'pg_catalog'::regnamespace), (SELECT count(*) FROM pg_class)"
)
BACKEND_BYTES = "SELECT sum(total_bytes)::bigint FROM pg_backend_memory_contexts"


def clusters_of(owner_url: str) -> dict[str, Cluster]:
    owner = normalize_url(owner_url)
    app = owner.set(username=DEFAULT_APP_ROLE, password=derive_app_password(owner, DEFAULT_APP_ROLE))
    return {MAIN_CLUSTER: Cluster(MAIN_CLUSTER, DEFAULT_REGION, app, owner)}


async def dashboards(owner_url: str, prepared: data.Prepared, total: int, concurrency: int) -> dict[str, Any]:
    clusters = clusters_of(owner_url)
    owner = normalize_url(owner_url)
    tokens, _ = tokens_for(prepared.owner_conninfo, prepared.dataset, 200)
    slug = prepared.dataset.slug
    results: dict[str, Any] = {"dashboard": {}, "moves": []}
    with run_server(owner_url, LMS_BENCH="1") as server:
        async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
            call = graphql_call(http, DASHBOARD, tokens)
            for label, placement in (("pool", None), ("bridge", "bridge"), ("silo", "silo"), ("pool again", "pool")):
                if placement is not None:
                    report = await asyncio.to_thread(
                        move_tenant, owner, clusters, slug, placement, app_role=DEFAULT_APP_ROLE, grace_seconds=1.0
                    )
                    results["moves"].append(
                        {
                            "from": report.source.placement,
                            "to": report.target.placement,
                            "rows": sum(report.rows.values()),
                            "snapshot_copy_s": round(report.snapshot_seconds, 2),
                            "write_freeze_s": round(report.freeze_seconds, 2),
                            "total_s": round(report.total_seconds, 2),
                        }
                    )
                await drive(call, 50, concurrency)  # warm: the home's engine, caches, plans
                results["dashboard"][label] = (await drive(call, total, concurrency)).summary()
    return results


def many_bridges(owner_url: str, count: int) -> dict[str, Any]:
    owner = normalize_url(owner_url)
    clusters = clusters_of(owner_url)
    conninfo = owner.set(drivername="postgresql").render_as_string(hide_password=False)
    homes = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        catalog_before = conn.execute(CATALOG_BYTES).fetchone()
        started = time.perf_counter()
        for n in range(count):
            slug = f"bridge-bench-{n}"
            (tenant_id,) = conn.execute(
                "INSERT INTO tenants (slug, name, placement, features) VALUES (%s, %s, 'bridge', %s) RETURNING id",
                (slug, slug, list(plan_features("free"))),
            ).fetchone() or (None,)
            home = home_for(tenant_id, "bridge", MAIN_CLUSTER)
            state = upgrade_placed_tenant(owner, clusters, slug, home, app_role=DEFAULT_APP_ROLE)
            assert state.error is None, state.describe()
            homes.append(home)
        seconds = time.perf_counter() - started
        catalog_after = conn.execute(CATALOG_BYTES).fetchone()
    assert catalog_before is not None
    assert catalog_after is not None
    with psycopg.connect(conninfo, autocommit=True) as conn:
        fresh = conn.execute(BACKEND_BYTES).fetchone()
        for home in homes:  # what a request of each tenant touches, in one connection
            conn.execute(f'SET search_path TO "{home.schema}"')
            conn.execute(
                "SELECT count(*) FROM enrollments e JOIN courses c ON c.tenant_id = e.tenant_id AND c.id = e.course_id "
                "JOIN lesson_progress p ON p.tenant_id = e.tenant_id AND p.user_id = e.user_id"
            )
        used = conn.execute(BACKEND_BYTES).fetchone()
    assert fresh is not None
    assert used is not None
    return {
        "schemas": count,
        "migrate_s": round(seconds, 1),
        "migrate_per_schema_ms": round(seconds * 1000 / count, 1),
        "catalog_mb_added": round((catalog_after[0] - catalog_before[0]) / 1e6, 1),
        "catalog_relations_added": catalog_after[1] - catalog_before[1],
        "connection_mb_fresh": round(fresh[0] / 1e6, 1),
        "connection_mb_after_all_schemas": round(used[0] / 1e6, 1),
        "connection_kb_per_schema": round((used[0] - fresh[0]) / 1e3 / count, 1),
    }


def many_silos(owner_url: str, count: int) -> dict[str, Any]:
    owner = normalize_url(owner_url)
    clusters = clusters_of(owner_url)
    conninfo = owner.set(drivername="postgresql").render_as_string(hide_password=False)
    homes = []
    try:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            started = time.perf_counter()
            for n in range(count):
                slug = f"silo-bench-{n}"
                (tenant_id,) = conn.execute(
                    "INSERT INTO tenants (slug, name, placement, features) VALUES (%s, %s, 'silo', %s) RETURNING id",
                    (slug, slug, list(plan_features("free"))),
                ).fetchone() or (None,)
                home = home_for(tenant_id, "silo", MAIN_CLUSTER)
                homes.append(home)
                state = upgrade_placed_tenant(owner, clusters, slug, home, app_role=DEFAULT_APP_ROLE)
                assert state.error is None, state.describe()
            seconds = time.perf_counter() - started
            sizes = conn.execute(
                "SELECT sum(pg_database_size(datname))::bigint FROM pg_database WHERE datname = ANY(%s)",
                ([home.database for home in homes],),
            ).fetchone()
        assert sizes is not None
        return {
            "databases": count,
            "migrate_s": round(seconds, 1),
            "migrate_per_database_ms": round(seconds * 1000 / count, 1),
            "disk_mb_per_database": round(sizes[0] / 1e6 / count, 1),
        }
    finally:
        for home in homes:
            drop_home(clusters[MAIN_CLUSTER], home)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    sizes = data.Sizes(tenants=5, students=400, courses=40) if args.quick else data.Sizes(tenants=20)
    total, concurrency = (120, 4) if args.quick else (2000, 16)
    bridges, silos = (5, 2) if args.quick else (args.bridges, args.silos)
    results: dict[str, Any] = {"students": sizes.students, "requests": total, "concurrency": concurrency}
    with bench_database() as owner_url:
        prepared = data.prepare(owner_url, sizes)
        results.update(await dashboards(owner_url, prepared, total, concurrency))
        results["bridges"] = many_bridges(owner_url, bridges)
        results["silos"] = many_silos(owner_url, silos)
    results["server"] = make_url(owner_url).host or "embedded"
    return results


def table(results: dict[str, Any]) -> str:
    lines = [
        f"| dashboard, {results['students']} students | rps | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|",
    ]
    for label, run in results["dashboard"].items():
        lines.append(
            f"| {label} | {run['rps']} | {run['p50_ms']} | {run['p95_ms']} | {run['p99_ms']} | {run['errors']} |"
        )
    lines += ["", "| move | rows | snapshot copy s | writes frozen s | total s |", "|---|---|---|---|---|"]
    for move in results["moves"]:
        lines.append(
            f"| {move['from']} → {move['to']} | {move['rows']} | {move['snapshot_copy_s']} | "
            f"{move['write_freeze_s']} | {move['total_s']} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small data, few schemas and databases")
    parser.add_argument("--bridges", type=int, default=1000, help="bridge schemas to make (default 1000)")
    parser.add_argument("--silos", type=int, default=50, help="silo databases to make (default 50)")
    outcome = asyncio.run(main(parser.parse_args()))
    print(table(outcome))
    print(json.dumps(outcome, indent=2))
