"""Copying one tenant's rows between homes, as their owner: what a move (moves.py) is made of."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from lms_graphql import models
from lms_graphql.kit.binding import TENANT_SETTING
from lms_graphql.kit.clusters import Cluster
from lms_graphql.kit.homes import Home
from lms_graphql.placement.provision import home_url, libpq


def tenant_tables() -> list[str]:
    """Every tenant-owned table, each after the tables it refers to."""
    return [
        table.name
        for table in models.Base.metadata.sorted_tables
        if "tenant_id" in table.columns and table.name != "tenants"
    ]


@contextmanager
def home_connection(clusters: dict[str, Cluster], home: Home, tenant_id: uuid.UUID) -> Iterator[psycopg.Connection]:
    """The owner's connection to ``home``, bound to the tenant (an owner that is no superuser is
    held by the forced row-level security too), in UTC so values print alike on both sides."""
    with psycopg.connect(libpq(home_url(clusters[home.cluster], home))) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(home.schema)))
        conn.execute("SELECT set_config(%s, %s, false)", (TENANT_SETTING, str(tenant_id)))
        conn.execute("SET TIME ZONE 'UTC'")
        conn.commit()
        yield conn


def table_columns(conn: psycopg.Connection, schema: str, table: str) -> tuple[list[str], list[str]]:
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


def stream_copy(
    source: psycopg.Connection, target: psycopg.Connection, query: sql.Composable, into: sql.Composable
) -> None:
    """Stream the rows ``query`` selects in the source into ``into`` in the target (binary COPY:
    both homes were made by the same migrations, so their columns match)."""
    with (
        source.cursor().copy(sql.SQL("COPY ({}) TO STDOUT (FORMAT BINARY)").format(query)) as out,
        target.cursor().copy(sql.SQL("COPY {} FROM STDIN (FORMAT BINARY)").format(into)) as into_copy,
    ):
        for block in out:
            into_copy.write(block)


def bypasses_rls(conn: psycopg.Connection) -> bool:
    """COPY FROM into a table refuses a role row-level security applies to (as it does, forced,
    to a table owner that is neither superuser nor BYPASSRLS, as on managed servers)."""
    return fetch_bool(conn, "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user", ())


def copy_rows(
    source: psycopg.Connection, target: psycopg.Connection, query: sql.Composable, table: str, columns: list[str]
) -> None:
    listed = sql.SQL(", ").join(map(sql.Identifier, columns))
    if bypasses_rls(target):
        stream_copy(source, target, query, sql.SQL("{} ({})").format(sql.Identifier(table), listed))
        return
    target.execute(
        sql.SQL("CREATE TEMP TABLE copied_rows AS SELECT {} FROM {} WITH NO DATA").format(listed, sql.Identifier(table))
    )
    stream_copy(source, target, query, sql.Identifier("copied_rows"))
    target.execute(
        sql.SQL("INSERT INTO {} ({}) SELECT {} FROM copied_rows").format(sql.Identifier(table), listed, listed)
    )
    target.execute("DROP TABLE copied_rows")


def select_rows(
    table: str, columns: list[str], tenant_id: uuid.UUID, where: sql.Composable | None = None
) -> sql.Composed:
    condition = sql.SQL("tenant_id = {}").format(sql.Literal(tenant_id))
    if where is not None:
        condition = sql.SQL("{} AND {}").format(condition, where)
    return sql.SQL("SELECT {} FROM {} WHERE {}").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(table), condition
    )


def purge_rows(conn: psycopg.Connection, tenant_id: uuid.UUID) -> None:
    for table in reversed(tenant_tables()):
        conn.execute(sql.SQL("DELETE FROM {} WHERE tenant_id = %s").format(sql.Identifier(table)), (tenant_id,))


def checksums(
    clusters: dict[str, Cluster], home: Home, tenant_id: uuid.UUID, columns: dict[str, list[str]]
) -> dict[str, tuple[int, int]]:
    """Each table's count of the tenant's rows and the sum of their hashes (an order-free
    checksum: no sort of a million rows), in ``home``, over the same ``columns`` on both sides."""
    found = {}
    with home_connection(clusters, home, tenant_id) as conn:
        for table, listed in columns.items():
            row = conn.execute(
                sql.SQL(
                    "SELECT count(*), coalesce(sum(hashtextextended(ROW({})::text, 0)), 0) FROM {} WHERE tenant_id = %s"
                ).format(sql.SQL(", ").join(map(sql.Identifier, listed)), sql.Identifier(table)),
                (tenant_id,),
            ).fetchone()
            assert row is not None
            found[table] = (int(row[0]), int(row[1]))
        conn.rollback()
    return found


def upsert_rows(
    source: psycopg.Connection,
    target: psycopg.Connection,
    table: str,
    columns: list[str],
    key: list[str],
    query: sql.Composable,
) -> int:
    """Insert or update in the target the rows ``query`` selects in the source."""
    listed = sql.SQL(", ").join(map(sql.Identifier, columns))
    target.execute(
        sql.SQL("CREATE TEMP TABLE moved_rows AS SELECT {} FROM {} WITH NO DATA").format(listed, sql.Identifier(table))
    )
    stream_copy(source, target, query, sql.Identifier("moved_rows"))
    values = [c for c in columns if c not in key]
    on_conflict = (
        sql.SQL("DO UPDATE SET {}").format(
            sql.SQL(", ").join(sql.SQL("{0} = excluded.{0}").format(sql.Identifier(c)) for c in values)
        )
        if values
        else sql.SQL("DO NOTHING")
    )
    upserted = target.execute(
        sql.SQL("INSERT INTO {} ({}) SELECT {} FROM moved_rows ON CONFLICT ({}) {}").format(
            sql.Identifier(table), listed, listed, sql.SQL(", ").join(map(sql.Identifier, key)), on_conflict
        )
    ).rowcount
    target.execute("DROP TABLE moved_rows")
    return max(upserted, 0)


def delete_missing(
    source: psycopg.Connection, target: psycopg.Connection, table: str, key: list[str], tenant_id: uuid.UUID
) -> int:
    """Delete in the target the tenant's rows the source no longer has (by primary key)."""
    keys = sql.SQL(", ").join(map(sql.Identifier, key))
    target.execute(
        sql.SQL("CREATE TEMP TABLE moved_keys AS SELECT {} FROM {} WITH NO DATA").format(keys, sql.Identifier(table))
    )
    stream_copy(source, target, select_rows(table, key, tenant_id), sql.Identifier("moved_keys"))
    deleted = target.execute(
        sql.SQL("DELETE FROM {} t WHERE tenant_id = %s AND NOT EXISTS (SELECT FROM moved_keys k WHERE {})").format(
            sql.Identifier(table),
            sql.SQL(" AND ").join(sql.SQL("k.{0} = t.{0}").format(sql.Identifier(c)) for c in key),
        ),
        (tenant_id,),
    ).rowcount
    target.execute("DROP TABLE moved_keys")
    return max(deleted, 0)


# Rows whose version may have been written after the snapshot: a row's xmin, widened to 64 bits
# against this transaction's own id (age() counts from it), at or past the snapshot's xmin. Not
# pg_visible_in_snapshot(): a savepoint's subtransaction id is not in a snapshot's list of running
# transactions, so a row written in a savepoint (every mutation's) of a transaction running at the
# snapshot would read as visible. Copying a row again that did not change does no harm.
WRITTEN_SINCE = sql.SQL(
    "pg_current_xact_id()::text::bigint - age(xmin) >= pg_snapshot_xmin({}::pg_snapshot)::text::bigint"
)


def fetch_bool(conn: psycopg.Connection, query: str, params: tuple[object, ...]) -> bool:
    row = conn.execute(query, params).fetchone()
    return bool(row and row[0])
