"""What the data-lifecycle operations cost on the large tenant: python -m bench.lifecycle [--quick].

1. `tenant export` of the large tenant (default: 20 000 learners): time and archive size, against
   the floor of the same run, a bare binary COPY of the same rows to nowhere; then `tenant import`
   of the archive into an empty database.
2. A course's gradebook and completion CSV for a course every learner is enrolled in, streamed
   over HTTP: time, bytes, and the server's peak memory (VmHWM) against the same server's peak
   after a small request (the baseline in the same run).
3. Erasing one learner (`eraseUser`: rewriting the audit log, outbox and notifications that
   name them) against renaming one (`updateUser`), same server, same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql

from bench import data
from bench.__main__ import tokens_for
from bench.harness import bench_database, run_server
from bench.placements import clusters_of
from lms_graphql.config import DEFAULT_APP_ROLE
from lms_graphql.kit.db import derive_app_password, normalize_url
from lms_graphql.kit.homes import POOL
from lms_graphql.migrate import migrate
from lms_graphql.placement.archive import export_tenant, import_tenant
from lms_graphql.placement.table_copy import home_connection, select_rows, table_columns, tenant_tables
from lms_graphql.storage.backends import LocalStore, Storage
from lms_graphql.storage.signing import UrlSigner

ERASE = "mutation($u: ID!) { eraseUser(id: $u) { id } }"
RENAME = 'mutation($u: ID!) { updateUser(id: $u, input: {fullName: "Renamed learner"}) { id } }'


def bare_copy_seconds(owner_url: str, tenant_id: uuid.UUID) -> tuple[float, int]:
    """The floor: every table's rows of the tenant as binary COPY, read and dropped."""
    started, total = time.perf_counter(), 0
    with home_connection(clusters_of(owner_url), POOL, tenant_id) as conn:
        for table in tenant_tables():
            columns, _ = table_columns(conn, "public", table)
            query = sql.SQL("COPY ({}) TO STDOUT (FORMAT BINARY)").format(select_rows(table, columns, tenant_id))
            with conn.cursor() as cursor, cursor.copy(query) as copy:
                for block in copy:
                    total += len(block)
        conn.rollback()
    return time.perf_counter() - started, total


def one_big_course(conninfo: str, tenant_id: uuid.UUID) -> str:
    """A course with every learner of the tenant enrolled (and an assessment graded for many)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        course = conn.execute(
            "SELECT id FROM courses WHERE tenant_id = %s ORDER BY created_at LIMIT 1", (tenant_id,)
        ).fetchone()
        assert course is not None
        conn.execute(
            "INSERT INTO enrollments (tenant_id, user_id, course_id, progress_pct) "
            "SELECT %s, u.id, %s, 50 FROM users u WHERE u.tenant_id = %s AND u.role = 'student' "
            "ON CONFLICT DO NOTHING",
            (tenant_id, course[0], tenant_id),
        )
        conn.execute(
            "INSERT INTO users (tenant_id, email, full_name, role) VALUES (%s, 'bench-admin@big.example', 'Admin', "
            "'admin') ON CONFLICT DO NOTHING",
            (tenant_id,),
        )
    return str(course[0])


def peak_kb(process: Any) -> int:
    for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


async def reports(owner_url: str, prepared: data.Prepared, course_id: str) -> dict[str, Any]:
    admins, _ = tokens_for(prepared.owner_conninfo, prepared.dataset, 1, "admin")
    _, student_ids = tokens_for(prepared.owner_conninfo, prepared.dataset, 2)
    found: dict[str, Any] = {}
    with run_server(owner_url, LMS_BENCH="1", LMS_WORKER="off") as server:
        async with httpx.AsyncClient(base_url=server.base, timeout=300) as http:
            headers = {"Authorization": f"Bearer {admins[0]}"}
            assert (await http.get("/api/v1/courses?first=5", headers=headers)).status_code == 200
            found["baseline_peak_mb"] = round(peak_kb(server.process) / 1024, 1)
            for report in ("gradebook", "completion"):
                started, size, lines = time.perf_counter(), 0, 0
                async with http.stream("GET", f"/api/v1/courses/{course_id}/{report}.csv", headers=headers) as answer:
                    assert answer.status_code == 200, await answer.aread()
                    async for chunk in answer.aiter_bytes():
                        size += len(chunk)
                        lines += chunk.count(b"\n")
                found[report] = {"rows": lines - 1, "bytes": size, "s": round(time.perf_counter() - started, 2)}
            found["peak_after_reports_mb"] = round(peak_kb(server.process) / 1024, 1)
            for label, document, user in (("rename", RENAME, student_ids[1]), ("erase", ERASE, student_ids[0])):
                started = time.perf_counter()
                reply = await http.post("/graphql", json={"query": document, "variables": {"u": str(user)}},
                                        headers=headers)  # fmt: skip
                assert "errors" not in reply.json(), reply.text
                found[f"{label}_s"] = round(time.perf_counter() - started, 3)
    return found


async def main(args: argparse.Namespace) -> dict[str, Any]:
    sizes = data.Sizes(tenants=5, students=400, courses=40) if args.quick else data.Sizes(tenants=20)
    results: dict[str, Any] = {"students": sizes.students}
    with bench_database() as owner_url, tempfile.TemporaryDirectory(prefix="lms-lifecycle-") as scratch:
        prepared = data.prepare(owner_url, sizes)
        tenant_id = prepared.dataset.tenant_id
        course_id = one_big_course(prepared.owner_conninfo, tenant_id)
        floor_s, floor_bytes = bare_copy_seconds(owner_url, tenant_id)
        signer = UrlSigner(lambda: b"bench-secret")
        storage = Storage(LocalStore(Path(scratch) / "objects", signer), signer)
        clusters = clusters_of(owner_url)
        archive = Path(scratch) / "big.lms.tar.gz"
        report = await export_tenant(normalize_url(owner_url), clusters, storage, prepared.dataset.slug, archive)
        results["export"] = {
            "rows": sum(report.rows.values()),
            "archive_mb": round(report.archive_bytes / 1e6, 1),
            "s": round(report.seconds, 2),
            "bare_copy_s": round(floor_s, 2),
            "bare_copy_mb": round(floor_bytes / 1e6, 1),
        }
        target_name = f"{normalize_url(owner_url).database}_import"
        target = normalize_url(owner_url).set(database=target_name)
        admin = normalize_url(owner_url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target_name)))
        try:
            migrate(target, app_role=DEFAULT_APP_ROLE, app_password=derive_app_password(target, DEFAULT_APP_ROLE))
            imported = await import_tenant(target, clusters_of(target.render_as_string(hide_password=False)),
                                           storage, archive)  # fmt: skip
            results["import"] = {"rows": sum(imported.rows.values()), "s": round(imported.seconds, 2)}
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target_name)))
        results["reports"] = await reports(owner_url, prepared, course_id)
    return results


def table(results: dict[str, Any]) -> str:
    export, imported, found = results["export"], results["import"], results["reports"]
    return "\n".join(
        [
            f"| {results['students']} learners | rows | MB | s |",
            "|---|---|---|---|",
            f"| bare binary COPY (floor) | {export['rows']} | {export['bare_copy_mb']} | {export['bare_copy_s']} |",
            f"| tenant export (archive) | {export['rows']} | {export['archive_mb']} | {export['s']} |",
            f"| tenant import | {imported['rows']} | | {imported['s']} |",
            f"| gradebook.csv | {found['gradebook']['rows']} | {round(found['gradebook']['bytes'] / 1e6, 1)} | "
            f"{found['gradebook']['s']} |",
            f"| completion.csv | {found['completion']['rows']} | {round(found['completion']['bytes'] / 1e6, 1)} | "
            f"{found['completion']['s']} |",
            "",
            f"server peak memory: {found['baseline_peak_mb']} MB after a small request, "
            f"{found['peak_after_reports_mb']} MB after both reports; updateUser {found['rename_s']} s, "
            f"eraseUser {found['erase_s']} s",
        ]
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a small data set")
    outcome = asyncio.run(main(parser.parse_args()))
    print(table(outcome))
    print(json.dumps(outcome, indent=2))
