"""The pool schema stays distributable by Citus, distribution column tenant_id: what Citus requires
of a schema, read from the catalog (Citus itself is not installed here), and the plan the README
shows, which must be the one this schema needs."""

from __future__ import annotations

import psycopg
import pytest

from lms_graphql import models
from tests.support.servers import readme_block
from tests.test_catalog import tables_with_tenant_id

pytestmark = pytest.mark.usefixtures("database_urls")

LOCAL_TABLES = {"alembic_version"}  # stays on the coordinator (so do the job queue's, in schema procrastinate)


def reference_tables(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename").fetchall()
    return [name for (name,) in rows if name not in tables_with_tenant_id(conn) | LOCAL_TABLES]


def citus_plan(conn: psycopg.Connection) -> str:
    """create_reference_table for the tables without tenant_id, then create_distributed_table for
    every tenant table, referenced tables first, all co-located with the first (a tenant's rows of
    every table on the same node, so its joins and foreign keys stay on one node)."""
    lines = ["-- copied to every node", *(f"SELECT create_reference_table('{t}');" for t in reference_tables(conn))]
    distributed = [
        table.name for table in models.Base.metadata.sorted_tables if table.name in models.TENANT_OWNED_TABLES
    ]
    lines.append("-- sharded by tenant_id, co-located")
    first, *rest = distributed
    lines.append(f"SELECT create_distributed_table('{first}', 'tenant_id');")
    lines += [f"SELECT create_distributed_table('{t}', 'tenant_id', colocate_with => '{first}');" for t in rest]
    return "\n".join(lines) + "\n"


def test_every_unique_index_of_a_tenant_table_includes_tenant_id(owner_conn: psycopg.Connection) -> None:
    """Citus enforces a unique only when it includes the distribution column, partial ones too."""
    rows = owner_conn.execute(
        """
        SELECT i.indexrelid::regclass::text, c.relname,
               EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id'
                       AND a.attnum = ANY(i.indkey))
        FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND i.indisunique
        """
    ).fetchall()
    tenant_tables = tables_with_tenant_id(owner_conn)
    checked = [(index, table) for index, table, has_tenant in rows if table in tenant_tables and not has_tenant]
    assert checked == []
    assert sum(1 for _, table, _ in rows if table in tenant_tables) >= len(tenant_tables)


def test_no_reference_table_points_at_a_tenant_table(owner_conn: psycopg.Connection) -> None:
    """Citus allows foreign keys from distributed to reference tables, never the other way."""
    rows = owner_conn.execute(
        """
        SELECT con.conname, src.relname, dst.relname FROM pg_constraint con
        JOIN pg_class src ON src.oid = con.conrelid JOIN pg_class dst ON dst.oid = con.confrelid
        JOIN pg_namespace n ON n.oid = src.relnamespace
        WHERE con.contype = 'f' AND n.nspname = 'public'
        """
    ).fetchall()
    tenant_tables = tables_with_tenant_id(owner_conn)
    assert [name for name, src, dst in rows if src not in tenant_tables and dst in tenant_tables] == []


def test_no_constraint_citus_cannot_keep(owner_conn: psycopg.Connection) -> None:
    """Exclusion constraints across shards are not supported."""
    rows = owner_conn.execute(
        """
        SELECT con.conname FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
        WHERE n.nspname = 'public' AND con.contype = 'x'
        """
    ).fetchall()
    assert rows == []


def test_the_readme_shows_the_plan_this_schema_needs(owner_conn: psycopg.Connection) -> None:
    assert readme_block("To spread the pool over a Citus cluster") == citus_plan(owner_conn)
