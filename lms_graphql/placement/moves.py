"""Moving a tenant to another home while it is served (`lms-graphql tenant move`).

1. Make (or empty) the target home.
2. Copy every tenant table in one consistent snapshot of the source, the tenant still writable.
3. Freeze: the tenant's transactions bind read-only from now on (kit/db.py), and the exclusive
   tenant lock waits out the writers that began before. Reads go on; writes answer a retryable
   503 with Retry-After.
4. Copy the delta: rows written since the snapshot (their xmin is not visible in it) are
   upserted, rows deleted since are deleted.
5. Verify row counts and checksums of every table on both sides.
6. Switch the registry row (and announce it: every process forgets the old home at once).
7. After a grace period, purge the old copy.

Anything failing before the switch rolls back: the target is emptied and the tenant unfrozen,
served from where it was all along. Rows keep their ids, so cursors, outbox events (and the
subscriptions' resume ids, which are event ids) and idempotency keys survive.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import psycopg
from psycopg import sql
from sqlalchemy import URL

from lms_graphql.kit.binding import TENANT_LOCK_SEED
from lms_graphql.kit.channels import CONTROL_WIRE_CHANNEL, REGISTRY, pack
from lms_graphql.kit.clusters import Cluster
from lms_graphql.kit.homes import MAIN_CLUSTER, PLACEMENTS, POOL, Home, home_for
from lms_graphql.placement.provision import copy_registry_row, drop_home, libpq, upgrade_home
from lms_graphql.placement.table_copy import (
    WRITTEN_SINCE,
    checksums,
    copy_rows,
    delete_missing,
    fetch_bool,
    home_connection,
    purge_rows,
    select_rows,
    table_columns,
    tenant_tables,
    upsert_rows,
)

GRACE_SECONDS = 2.0
MOVE_LOCK = 72_530  # advisory lock class of moves (with the slug's hash)
# How long the writers that began before the freeze may take to end (the statement timeout of
# the largest plan is 30 s); past it the move rolls back.
WRITERS_WAIT_SECONDS = 35.0


class MoveError(RuntimeError):
    pass


@dataclass
class MoveReport:
    slug: str
    source: Home
    target: Home
    rows: dict[str, int] = field(default_factory=dict)
    delta_rows: int = 0
    snapshot_seconds: float = 0.0
    freeze_seconds: float = 0.0
    total_seconds: float = 0.0

    def describe(self) -> str:
        return (
            f"moved {self.slug} from {self.source.describe()} to {self.target.describe()}: "
            f"{sum(self.rows.values())} rows in {len(self.rows)} tables, snapshot copy {self.snapshot_seconds:.2f} s, "
            f"writes frozen {self.freeze_seconds:.2f} s ({self.delta_rows} rows of delta), "
            f"{self.total_seconds:.2f} s in all"
        )


@dataclass(frozen=True)
class _Tenant:
    id: uuid.UUID
    slug: str
    region: str
    home: Home
    frozen: bool


def _registered(platform: psycopg.Connection, slug: str) -> _Tenant:
    row = platform.execute(
        "SELECT id, region, placement, cluster, frozen FROM tenants WHERE slug = %s", (slug,)
    ).fetchone()
    if row is None:
        raise MoveError(f"no tenant with slug {slug!r}")
    tenant_id, region, placement, cluster, frozen = row
    return _Tenant(tenant_id, slug, region, home_for(tenant_id, placement, cluster), frozen)


def move_tenant(
    platform_owner: URL,
    clusters: dict[str, Cluster],
    slug: str,
    placement: str,
    cluster: str | None = None,
    *,
    app_role: str,
    grace_seconds: float = GRACE_SECONDS,
    on_frozen: Callable[[], None] | None = None,
) -> MoveReport:
    """Move the tenant ``slug`` to ``placement`` (on ``cluster``); see the module's steps."""
    started = time.monotonic()
    if placement not in PLACEMENTS:
        raise MoveError(f"unknown placement {placement!r}: one of {', '.join(PLACEMENTS)}")
    with psycopg.connect(libpq(platform_owner), autocommit=True) as platform:
        # One move of a tenant at a time: held by this connection until the move ends.
        locked = platform.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", (MOVE_LOCK, slug)).fetchone()
        if not (locked and locked[0]):
            raise MoveError(f"tenant {slug} is being moved by another process")
        tenant = _registered(platform, slug)
        if tenant.frozen:  # frozen, yet no move holds the lock: one died; undo what it did
            _unfreeze(platform, clusters, tenant)
        target = home_for(tenant.id, placement, cluster or MAIN_CLUSTER)
        _check_target(clusters, tenant, target)
        report = MoveReport(slug, tenant.home, target)
        _prepare_target(platform_owner, clusters, tenant, target, app_role=app_role)
        try:
            snapshot = _copy_snapshot(clusters, tenant, target, report)
            frozen_at = _freeze(platform, clusters, tenant)
            if on_frozen is not None:
                on_frozen()
            _copy_delta(clusters, tenant, target, snapshot, report)
            _verify(clusters, tenant, target, report)
            if target.placement != "pool":  # what changed in the registry meanwhile (plan, seats)
                copy_registry_row(platform_owner, clusters[target.cluster], target)
            _switch(platform, tenant, target)
            report.freeze_seconds = time.monotonic() - frozen_at
        except BaseException:
            _roll_back(platform, clusters, tenant, target)
            raise
        time.sleep(grace_seconds)  # every process hears of the switch; then nothing reads the old copy
        if _registered(platform, slug).home == target:  # still there: the old home is nobody's
            if not tenant.home.on_platform_database:
                _forward_waiting_jobs(platform_owner, clusters, tenant)
            _purge_old_home(clusters, tenant)
    report.total_seconds = time.monotonic() - started
    return report


def _check_target(clusters: dict[str, Cluster], tenant: _Tenant, target: Home) -> None:
    if target == tenant.home:
        raise MoveError(f"tenant {tenant.slug} is in {target.describe()} already")
    found = clusters.get(target.cluster)
    if found is None:
        raise MoveError(f"unknown cluster {target.cluster!r}: one of {', '.join(sorted(clusters))} (LMS_CLUSTERS)")
    if found.region != tenant.region:
        raise MoveError(
            f"cluster {found.name!r} is in {found.region}: tenant {tenant.slug} of {tenant.region} may not be placed "
            "there (data residency)"
        )
    if target.placement == "pool" and target.cluster != MAIN_CLUSTER:
        raise MoveError("the pool is on the main cluster")
    if found.owner is None:
        raise MoveError(f"cluster {found.name!r} has no owner login in this process")


def _prepare_target(
    platform_owner: URL, clusters: dict[str, Cluster], tenant: _Tenant, target: Home, *, app_role: str
) -> None:
    """The target home at head, with the tenant's registry row and none of its rows (a move
    interrupted before may have left some)."""
    if target.placement != "pool":
        upgrade_home(clusters[target.cluster], target, app_role=app_role)
        copy_registry_row(platform_owner, clusters[target.cluster], target)
    with home_connection(clusters, target, tenant.id) as conn:
        purge_rows(conn, tenant.id)
        conn.commit()


def _copy_snapshot(clusters: dict[str, Cluster], tenant: _Tenant, target: Home, report: MoveReport) -> str:
    began = time.monotonic()
    with (
        home_connection(clusters, tenant.home, tenant.id) as source,
        home_connection(clusters, target, tenant.id) as into,
    ):
        source.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = source.execute("SELECT pg_current_snapshot()::text").fetchone()
        assert snapshot is not None
        for table in tenant_tables():
            columns, _ = table_columns(source, tenant.home.schema, table)
            copy_rows(source, into, select_rows(table, columns, tenant.id), table, columns)
        source.rollback()
        into.commit()
        # Statistics and a visibility map (index-only scans) from the start: without them the
        # dashboard ran 1.3-2.5x slower in the new home.
        into.autocommit = True
        for table in tenant_tables():
            into.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))
    report.snapshot_seconds = time.monotonic() - began
    return str(snapshot[0])


def _set_frozen(conn: psycopg.Connection, tenant_id: uuid.UUID, frozen: bool) -> None:
    conn.execute("UPDATE tenants SET frozen = %s WHERE id = %s", (frozen, tenant_id))


def _freeze(platform: psycopg.Connection, clusters: dict[str, Cluster], tenant: _Tenant) -> float:
    """From the commit on, the tenant's new transactions bind read-only (lms_bind_writes, 0018);
    the exclusive lock is granted once the writers that bound before have ended. It is only
    tried, not waited for: a waiting exclusive request would queue every new transaction of
    the tenant, reads too, behind it."""
    _set_frozen(platform, tenant.id, True)  # the registry (the pool's own row)
    frozen_at = time.monotonic()
    key = (str(tenant.id), TENANT_LOCK_SEED)
    with home_connection(clusters, tenant.home, tenant.id) as conn:
        conn.autocommit = True
        if tenant.home.placement != "pool":
            _set_frozen(conn, tenant.id, True)
        deadline = time.monotonic() + WRITERS_WAIT_SECONDS
        while not fetch_bool(conn, "SELECT pg_try_advisory_lock(hashtextextended(%s, %s))", key):
            if time.monotonic() > deadline:
                raise MoveError(f"writers of tenant {tenant.slug} ran past {WRITERS_WAIT_SECONDS} s: not moved")
            time.sleep(0.01)
        conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s, %s))", key)
    return frozen_at


def _copy_delta(clusters: dict[str, Cluster], tenant: _Tenant, target: Home, snapshot: str, report: MoveReport) -> None:
    """What was written since the snapshot, parents before children (deletions: _verify)."""
    with (
        home_connection(clusters, tenant.home, tenant.id) as source,
        home_connection(clusters, target, tenant.id) as into,
    ):
        source.execute("SELECT pg_current_xact_id()")  # age() then counts from this transaction's id
        for table in tenant_tables():
            columns, key = table_columns(source, tenant.home.schema, table)
            written = select_rows(table, columns, tenant.id, WRITTEN_SINCE.format(sql.Literal(snapshot)))
            report.delta_rows += upsert_rows(source, into, table, columns, key, written)
        source.rollback()
        into.commit()


def _verify(clusters: dict[str, Cluster], tenant: _Tenant, target: Home, report: MoveReport) -> None:
    """Counts and checksums of every table on both sides, at once. A table that differs had rows
    deleted since the snapshot: they are deleted in the new home too (children first), and then
    it must match."""
    with home_connection(clusters, tenant.home, tenant.id) as source:
        shapes = {table: table_columns(source, tenant.home.schema, table) for table in tenant_tables()}
    differing = _differing(clusters, tenant, target, {t: shape[0] for t, shape in shapes.items()}, report)
    if not differing:
        return
    with (
        home_connection(clusters, tenant.home, tenant.id) as source,
        home_connection(clusters, target, tenant.id) as into,
    ):
        for table in reversed(differing):
            report.delta_rows += delete_missing(source, into, table, shapes[table][1], tenant.id)
        source.rollback()
        into.commit()
    still = _differing(clusters, tenant, target, {t: shapes[t][0] for t in differing}, report)
    if still:
        raise MoveError(f"the old and the new home differ in {', '.join(still)} after the delta: not moved")


def _differing(
    clusters: dict[str, Cluster], tenant: _Tenant, target: Home, columns: dict[str, list[str]], report: MoveReport
) -> list[str]:
    with ThreadPoolExecutor(max_workers=2) as sides:
        old = sides.submit(checksums, clusters, tenant.home, tenant.id, columns)
        new = sides.submit(checksums, clusters, target, tenant.id, columns)
        found, copied = old.result(), new.result()
    report.rows.update({table: counted for table, (counted, _) in found.items()})
    return [table for table in columns if found[table] != copied[table]]


def _switch(platform: psycopg.Connection, tenant: _Tenant, target: Home) -> None:
    """One transaction: the registry names the new home, unfrozen; every process hears of it
    when it commits."""
    with platform.transaction():
        switched = platform.execute(
            "UPDATE tenants SET placement = %s, cluster = %s, frozen = false "
            "WHERE id = %s AND placement = %s AND cluster = %s",
            (target.placement, target.cluster, tenant.id, tenant.home.placement, tenant.home.cluster),
        ).rowcount
        if switched != 1:
            raise MoveError(f"tenant {tenant.slug} changed while it moved; nothing was switched")
        platform.execute("SELECT pg_notify(%s, %s)", (CONTROL_WIRE_CHANNEL, pack(REGISTRY, tenant.slug)))


def _unfreeze(platform: psycopg.Connection, clusters: dict[str, Cluster], tenant: _Tenant) -> None:
    """The tenant writable again where it is, and every process told."""
    _set_frozen(platform, tenant.id, False)
    if tenant.home.placement != "pool":
        with home_connection(clusters, tenant.home, tenant.id) as conn:
            _set_frozen(conn, tenant.id, False)
            conn.commit()
    platform.execute("SELECT pg_notify(%s, %s)", (CONTROL_WIRE_CHANNEL, pack(REGISTRY, tenant.slug)))


def _roll_back(platform: psycopg.Connection, clusters: dict[str, Cluster], tenant: _Tenant, target: Home) -> None:
    """Before the switch: the tenant stays where it was, writable again; the target is emptied."""
    _unfreeze(platform, clusters, tenant)
    if target.placement == "pool":
        with home_connection(clusters, POOL, tenant.id) as conn:
            purge_rows(conn, tenant.id)
            conn.commit()
    else:
        drop_home(clusters[target.cluster], target)


_DEFER = (
    "SELECT procrastinate.procrastinate_defer_jobs_v1(ARRAY[ROW(%s, %s, %s, %s, NULL, %s, %s)"
    "::procrastinate.procrastinate_job_to_defer_v1])"
)


def _forward_waiting_jobs(platform_owner: URL, clusters: dict[str, Cluster], tenant: _Tenant) -> None:
    """A silo's own queue still holding jobs its transactions deferred (kit/deferral.py): onto
    the platform's before the silo goes. Their queueing locks are dropped: each is one job."""
    with (
        home_connection(clusters, tenant.home, tenant.id) as silo,
        psycopg.connect(libpq(platform_owner)) as platform,
    ):
        waiting = silo.execute(
            "SELECT queue_name, task_name, priority, lock, args, scheduled_at FROM procrastinate.procrastinate_jobs "
            "WHERE status = 'todo'"
        ).fetchall()
        for queue, task, priority, lock, args, scheduled_at in waiting:
            platform.execute(_DEFER, (queue, task, priority, lock, psycopg.types.json.Jsonb(args), scheduled_at))
        platform.commit()


def _purge_old_home(clusters: dict[str, Cluster], tenant: _Tenant) -> None:
    if tenant.home.placement != "pool":
        drop_home(clusters[tenant.home.cluster], tenant.home)
        return
    with home_connection(clusters, POOL, tenant.id) as conn:
        purge_rows(conn, tenant.id)
        conn.commit()
