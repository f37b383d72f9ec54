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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg
from psycopg import sql
from sqlalchemy import URL

from lms_graphql import models
from lms_graphql.kit.channels import CONTROL_WIRE_CHANNEL, REGISTRY, pack
from lms_graphql.kit.clusters import Cluster
from lms_graphql.kit.db import TENANT_LOCK_SEED, TENANT_SETTING
from lms_graphql.kit.homes import MAIN_CLUSTER, PLACEMENTS, POOL, Home, home_for
from lms_graphql.placement.provision import copy_registry_row, drop_home, home_url, libpq, upgrade_home

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


def tenant_tables() -> list[str]:
    """Every tenant-owned table, each after the tables it refers to."""
    return [
        table.name
        for table in models.Base.metadata.sorted_tables
        if "tenant_id" in table.columns and table.name != "tenants"
    ]


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


@contextmanager
def _home_connection(clusters: dict[str, Cluster], home: Home, tenant_id: uuid.UUID) -> Iterator[psycopg.Connection]:
    """The owner's connection to ``home``, bound to the tenant (an owner that is no superuser is
    held by the forced row-level security too), in UTC so values print alike on both sides."""
    with psycopg.connect(libpq(home_url(clusters[home.cluster], home))) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(home.schema)))
        conn.execute("SELECT set_config(%s, %s, false)", (TENANT_SETTING, str(tenant_id)))
        conn.execute("SET TIME ZONE 'UTC'")
        conn.commit()
        yield conn


def _columns(conn: psycopg.Connection, schema: str, table: str) -> tuple[list[str], list[str]]:
    """The table's columns (in order) and its primary key's."""
    columns = [
        row[0]
        for row in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped "
            "ORDER BY attnum",
            (f'"{schema}"."{table}"',),
        )
    ]
    key = [
        row[0]
        for row in conn.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY a.attnum",
            (f'"{schema}"."{table}"',),
        )
    ]
    return columns, key


def _copy(source: psycopg.Connection, target: psycopg.Connection, query: sql.Composable, into: sql.Composable) -> None:
    """Stream the rows ``query`` selects in the source into ``into`` in the target (binary COPY:
    both homes were made by the same migrations, so their columns match)."""
    with (
        source.cursor().copy(sql.SQL("COPY ({}) TO STDOUT (FORMAT BINARY)").format(query)) as out,
        target.cursor().copy(sql.SQL("COPY {} FROM STDIN (FORMAT BINARY)").format(into)) as into_copy,
    ):
        for block in out:
            into_copy.write(block)


def _bypasses_rls(conn: psycopg.Connection) -> bool:
    """COPY FROM into a table refuses a role row-level security applies to (as it does, forced,
    to a table owner that is neither superuser nor BYPASSRLS, as on managed servers)."""
    return _fetch_bool(conn, "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user", ())


def _copy_rows(
    source: psycopg.Connection, target: psycopg.Connection, query: sql.Composable, table: str, columns: list[str]
) -> None:
    listed = sql.SQL(", ").join(map(sql.Identifier, columns))
    if _bypasses_rls(target):
        _copy(source, target, query, sql.SQL("{} ({})").format(sql.Identifier(table), listed))
        return
    target.execute(
        sql.SQL("CREATE TEMP TABLE copied_rows AS SELECT {} FROM {} WITH NO DATA").format(listed, sql.Identifier(table))
    )
    _copy(source, target, query, sql.Identifier("copied_rows"))
    target.execute(
        sql.SQL("INSERT INTO {} ({}) SELECT {} FROM copied_rows").format(sql.Identifier(table), listed, listed)
    )
    target.execute("DROP TABLE copied_rows")


def _select(table: str, columns: list[str], tenant_id: uuid.UUID, where: sql.Composable | None = None) -> sql.Composed:
    condition = sql.SQL("tenant_id = {}").format(sql.Literal(tenant_id))
    if where is not None:
        condition = sql.SQL("{} AND {}").format(condition, where)
    return sql.SQL("SELECT {} FROM {} WHERE {}").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(table), condition
    )


def _purge_rows(conn: psycopg.Connection, tenant_id: uuid.UUID) -> None:
    for table in reversed(tenant_tables()):
        conn.execute(sql.SQL("DELETE FROM {} WHERE tenant_id = %s").format(sql.Identifier(table)), (tenant_id,))


def _count_and_checksum(
    conn: psycopg.Connection, table: str, columns: list[str], key: list[str], tenant_id: uuid.UUID
) -> tuple[int, str]:
    row = conn.execute(
        sql.SQL(
            "SELECT count(*), coalesce(md5(string_agg(md5(ROW({})::text), '' ORDER BY {})), '') FROM {} "
            "WHERE tenant_id = %s"
        ).format(
            sql.SQL(", ").join(map(sql.Identifier, columns)),
            sql.SQL(", ").join(map(sql.Identifier, key)),
            sql.Identifier(table),
        ),
        (tenant_id,),
    ).fetchone()
    assert row is not None
    return int(row[0]), str(row[1])


# Rows whose version may have been written after the snapshot: a row's xmin, widened to 64 bits
# against this transaction's own id (age() counts from it), at or past the snapshot's xmin. Not
# pg_visible_in_snapshot(): a savepoint's subtransaction id is not in a snapshot's list of running
# transactions, so a row written in a savepoint (every mutation's) of a transaction running at the
# snapshot would read as visible. Copying a row again that did not change does no harm.
_WRITTEN_SINCE = sql.SQL(
    "pg_current_xact_id()::text::bigint - age(xmin) >= pg_snapshot_xmin({}::pg_snapshot)::text::bigint"
)


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
    with _home_connection(clusters, target, tenant.id) as conn:
        _purge_rows(conn, tenant.id)
        conn.commit()


def _copy_snapshot(clusters: dict[str, Cluster], tenant: _Tenant, target: Home, report: MoveReport) -> str:
    began = time.monotonic()
    with (
        _home_connection(clusters, tenant.home, tenant.id) as source,
        _home_connection(clusters, target, tenant.id) as into,
    ):
        source.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = source.execute("SELECT pg_current_snapshot()::text").fetchone()
        assert snapshot is not None
        for table in tenant_tables():
            columns, _ = _columns(source, tenant.home.schema, table)
            _copy_rows(source, into, _select(table, columns, tenant.id), table, columns)
        source.rollback()
        into.commit()
        for table in tenant_tables():  # plans in the new home as good as in the old from the start
            into.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
        into.commit()
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
    with _home_connection(clusters, tenant.home, tenant.id) as conn:
        conn.autocommit = True
        if tenant.home.placement != "pool":
            _set_frozen(conn, tenant.id, True)
        deadline = time.monotonic() + WRITERS_WAIT_SECONDS
        while not _fetch_bool(conn, "SELECT pg_try_advisory_lock(hashtextextended(%s, %s))", key):
            if time.monotonic() > deadline:
                raise MoveError(f"writers of tenant {tenant.slug} ran past {WRITERS_WAIT_SECONDS} s: not moved")
            time.sleep(0.01)
        conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s, %s))", key)
    return frozen_at


def _fetch_bool(conn: psycopg.Connection, query: str, params: tuple[object, ...]) -> bool:
    row = conn.execute(query, params).fetchone()
    return bool(row and row[0])


def _copy_delta(clusters: dict[str, Cluster], tenant: _Tenant, target: Home, snapshot: str, report: MoveReport) -> None:
    with (
        _home_connection(clusters, tenant.home, tenant.id) as source,
        _home_connection(clusters, target, tenant.id) as into,
    ):
        source.execute("SELECT pg_current_xact_id()")  # age() then counts from this transaction's id
        for table in reversed(tenant_tables()):  # deletions first, children before parents
            columns, key = _columns(source, tenant.home.schema, table)
            keys = sql.SQL(", ").join(map(sql.Identifier, key))
            into.execute(
                sql.SQL("CREATE TEMP TABLE moved_keys AS SELECT {} FROM {} WITH NO DATA").format(
                    keys, sql.Identifier(table)
                )
            )
            _copy(source, into, _select(table, key, tenant.id), sql.Identifier("moved_keys"))
            deleted = into.execute(
                sql.SQL(
                    "DELETE FROM {} t WHERE tenant_id = %s AND NOT EXISTS (SELECT FROM moved_keys k WHERE {})"
                ).format(
                    sql.Identifier(table),
                    sql.SQL(" AND ").join(sql.SQL("k.{0} = t.{0}").format(sql.Identifier(c)) for c in key),
                ),
                (tenant.id,),
            ).rowcount
            into.execute("DROP TABLE moved_keys")
            report.delta_rows += max(deleted, 0)
        for table in tenant_tables():  # then what was written, parents before children
            columns, key = _columns(source, tenant.home.schema, table)
            listed = sql.SQL(", ").join(map(sql.Identifier, columns))
            into.execute(
                sql.SQL("CREATE TEMP TABLE moved_rows AS SELECT {} FROM {} WITH NO DATA").format(
                    listed, sql.Identifier(table)
                )
            )
            written = _select(table, columns, tenant.id, _WRITTEN_SINCE.format(sql.Literal(snapshot)))
            _copy(source, into, written, sql.Identifier("moved_rows"))
            values = [c for c in columns if c not in key]
            on_conflict = (
                sql.SQL("DO UPDATE SET {}").format(
                    sql.SQL(", ").join(sql.SQL("{0} = excluded.{0}").format(sql.Identifier(c)) for c in values)
                )
                if values
                else sql.SQL("DO NOTHING")
            )
            upserted = into.execute(
                sql.SQL("INSERT INTO {} ({}) SELECT {} FROM moved_rows ON CONFLICT ({}) {}").format(
                    sql.Identifier(table), listed, listed, sql.SQL(", ").join(map(sql.Identifier, key)), on_conflict
                )
            ).rowcount
            into.execute("DROP TABLE moved_rows")
            report.delta_rows += max(upserted, 0)
        source.rollback()
        into.commit()


def _verify(clusters: dict[str, Cluster], tenant: _Tenant, target: Home, report: MoveReport) -> None:
    with (
        _home_connection(clusters, tenant.home, tenant.id) as source,
        _home_connection(clusters, target, tenant.id) as into,
    ):
        for table in tenant_tables():
            columns, key = _columns(source, tenant.home.schema, table)
            found = _count_and_checksum(source, table, columns, key, tenant.id)
            copied = _count_and_checksum(into, table, columns, key, tenant.id)
            if found != copied:
                raise MoveError(f"{table}: {found[0]} rows in the old home, {copied[0]} in the new, or they differ")
            report.rows[table] = found[0]
        source.rollback()
        into.rollback()


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
        with _home_connection(clusters, tenant.home, tenant.id) as conn:
            _set_frozen(conn, tenant.id, False)
            conn.commit()
    platform.execute("SELECT pg_notify(%s, %s)", (CONTROL_WIRE_CHANNEL, pack(REGISTRY, tenant.slug)))


def _roll_back(platform: psycopg.Connection, clusters: dict[str, Cluster], tenant: _Tenant, target: Home) -> None:
    """Before the switch: the tenant stays where it was, writable again; the target is emptied."""
    _unfreeze(platform, clusters, tenant)
    if target.placement == "pool":
        with _home_connection(clusters, POOL, tenant.id) as conn:
            _purge_rows(conn, tenant.id)
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
        _home_connection(clusters, tenant.home, tenant.id) as silo,
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
    with _home_connection(clusters, POOL, tenant.id) as conn:
        _purge_rows(conn, tenant.id)
        conn.commit()
