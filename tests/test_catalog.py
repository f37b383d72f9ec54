"""The database itself guarantees isolation: every tenant table is shaped and policed alike."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from lms_graphql import models
from lms_graphql.config import DEFAULT_APP_ROLE
from lms_graphql.kit.db import DatabaseUrls
from tests.support.database import libpq_url

pytestmark = pytest.mark.usefixtures("database_urls")


def tables_with_tenant_id(conn: psycopg.Connection) -> set[str]:
    rows = conn.execute(
        """
        SELECT c.relname FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
        WHERE n.nspname = 'public' AND c.relkind = 'r'
        """
    ).fetchall()
    return {name for (name,) in rows}


def test_every_table_but_the_registry_is_tenant_owned(owner_conn: psycopg.Connection) -> None:
    rows = owner_conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    all_tables = {name for (name,) in rows}
    # The registry, and the platform's registered documents (a reference table: GraphQL
    # documents every tenant's clients may send, no tenant's data).
    assert all_tables - tables_with_tenant_id(owner_conn) == {"tenants", "platform_documents", "alembic_version"}
    assert tables_with_tenant_id(owner_conn) == set(models.TENANT_OWNED_TABLES)


def test_tenant_tables_force_rls_with_one_checked_policy(owner_conn: psycopg.Connection) -> None:
    for table in tables_with_tenant_id(owner_conn):
        enabled, forced = owner_conn.execute(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = %s::regclass", (table,)
        ).fetchone() or (None, None)
        assert enabled, f"{table}: RLS must be enabled"
        assert forced, f"{table}: RLS must be forced (it would not bind the owner otherwise)"
        policies = owner_conn.execute(
            "SELECT cmd, qual, with_check FROM pg_policies WHERE schemaname = 'public' AND tablename = %s",
            (table,),
        ).fetchall()
        assert len(policies) == 1, f"{table}: expected one policy, found {policies}"
        cmd, using, with_check = policies[0]
        assert cmd == "ALL"
        for expression in (using, with_check):
            assert expression is not None, f"{table}: policy needs USING and WITH CHECK"
            assert "current_setting('app.current_tenant_id'" in expression
            assert "NULLIF" in expression


def plan_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from plan_nodes(child)


def initplan_outputs(node: dict[str, Any]) -> list[str]:
    """How a plan's conditions refer to the value an InitPlan computed once: '$0' up to
    PostgreSQL 16 ("InitPlan 1 (returns $0)"), '(InitPlan 1).col1' from 17 ("InitPlan 1")."""
    outputs: list[str] = []
    for initplan in plan_nodes(node):
        if initplan.get("Parent Relationship") != "InitPlan":
            continue
        name = initplan["Subplan Name"]
        returned = re.search(r"\(returns (.+)\)", name)
        if returned:
            outputs += [param.strip() for param in returned.group(1).split(",")]
        else:
            outputs.append(f"({name}).col1")
    return outputs


def policy_problems(plan: dict[str, Any]) -> list[str]:
    """Why this plan would not filter on the tenant once per statement: the condition on
    tenant_id must compare with an InitPlan's output, and nothing may call current_setting
    per row."""
    conditions = [
        value
        for node in plan_nodes(plan)
        for key, value in node.items()
        if key == "Filter" or key.endswith(" Cond")  # Index Cond, Recheck Cond, Hash Cond...
    ]
    problems = [f"per-row call in {condition!r}" for condition in conditions if "current_setting" in condition]
    outputs = initplan_outputs(plan)
    if not any(f"tenant_id = {output}" in condition for condition in conditions for output in outputs):
        problems.append(f"no condition compares tenant_id with an InitPlan's output {outputs} in {conditions}")
    return problems


def test_the_tenant_policy_runs_once_per_statement_as_an_initplan(
    owner_conn: psycopg.Connection, database_urls: DatabaseUrls
) -> None:
    """The policy's sub-select makes PostgreSQL read the setting once (an InitPlan) instead of
    calling current_setting for every row; a policy rewritten without it must fail here."""
    checked = 0
    with psycopg.connect(libpq_url(database_urls.app)) as conn, conn.transaction():
        conn.execute("SELECT set_config('app.current_tenant_id', %s, true)", (str(uuid.uuid4()),))

        def plan(statement: str) -> dict[str, Any]:
            row = conn.execute(f"EXPLAIN (FORMAT JSON) {statement}").fetchone()
            assert row is not None
            return dict(row[0][0]["Plan"])

        for table in sorted(tables_with_tenant_id(owner_conn)):
            statements = [f"SELECT * FROM {table}"]
            may_update, may_delete = conn.execute(
                "SELECT has_table_privilege(%s, 'UPDATE'), has_table_privilege(%s, 'DELETE')", (table, table)
            ).fetchone() or (False, False)
            if may_update:
                statements.append(f"UPDATE {table} SET tenant_id = tenant_id")
            if may_delete:
                statements.append(f"DELETE FROM {table}")
            for statement in statements:
                assert policy_problems(plan(statement)) == [], statement
                checked += 1
        # The check itself: a per-row call, as a policy without the sub-select makes, is caught.
        per_row = (
            "SELECT * FROM users WHERE tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::uuid"
        )
        assert policy_problems(plan(per_row))
    assert checked >= 2 * len(models.TENANT_OWNED_TABLES)


def test_tenant_id_is_not_null_and_leads_every_key_and_index(owner_conn: psycopg.Connection) -> None:
    for table in tables_with_tenant_id(owner_conn):
        (nullable,) = owner_conn.execute(
            "SELECT is_nullable FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = %s AND column_name = 'tenant_id'",
            (table,),
        ).fetchone() or (None,)
        assert nullable == "NO", table
        indexes = owner_conn.execute(
            """
            SELECT i.indexrelid::regclass::text, a.attname
            FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
            WHERE i.indrelid = %s::regclass
            """,
            (table,),
        ).fetchall()
        assert indexes, table
        for index, first_column in indexes:
            assert first_column == "tenant_id", f"{index} on {table} must lead with tenant_id"


def test_every_foreign_key_between_tenant_tables_includes_tenant_id(owner_conn: psycopg.Connection) -> None:
    rows = owner_conn.execute(
        """
        SELECT con.conname, src.relname, dst.relname,
               ARRAY(SELECT attname FROM pg_attribute WHERE attrelid = con.conrelid
                     AND attnum = ANY(con.conkey)) AS src_cols,
               ARRAY(SELECT attname FROM pg_attribute WHERE attrelid = con.confrelid
                     AND attnum = ANY(con.confkey)) AS dst_cols,
               (SELECT attnum FROM pg_attribute WHERE attrelid = con.conrelid AND attname = 'tenant_id'),
               (SELECT attnum FROM pg_attribute WHERE attrelid = con.confrelid AND attname = 'tenant_id'),
               con.conkey, con.confkey
        FROM pg_constraint con
        JOIN pg_class src ON src.oid = con.conrelid
        JOIN pg_class dst ON dst.oid = con.confrelid
        JOIN pg_namespace n ON n.oid = src.relnamespace
        WHERE con.contype = 'f' AND n.nspname = 'public'
        """
    ).fetchall()
    tenant_tables = tables_with_tenant_id(owner_conn)
    checked = 0
    for name, src, dst, src_cols, _dst_cols, src_tid, dst_tid, conkey, confkey in rows:
        if src not in tenant_tables:
            continue
        if dst == "tenants":
            assert list(src_cols) == ["tenant_id"], name
            continue
        # tenant_id must be paired with the referenced table's tenant_id.
        assert src_tid in conkey, f"{name}: {src} -> {dst} must include tenant_id"
        assert confkey[list(conkey).index(src_tid)] == dst_tid, f"{name}: tenant_id must map to tenant_id"
        checked += 1
    assert checked >= 15


def test_uniques_include_tenant_id(owner_conn: psycopg.Connection) -> None:
    rows = owner_conn.execute(
        """
        SELECT con.conname, c.relname,
               ARRAY(SELECT attname FROM pg_attribute WHERE attrelid = con.conrelid
                     AND attnum = ANY(con.conkey))
        FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE con.contype IN ('p', 'u') AND n.nspname = 'public'
        """
    ).fetchall()
    tenant_tables = tables_with_tenant_id(owner_conn)
    for name, table, columns in rows:
        if table in tenant_tables:
            assert "tenant_id" in columns, f"{name} on {table} must include tenant_id"


def test_app_role_is_confined_and_owns_nothing(owner_conn: psycopg.Connection) -> None:
    row = owner_conn.execute(
        "SELECT oid, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolcanlogin FROM pg_roles WHERE rolname = %s",
        (DEFAULT_APP_ROLE,),
    ).fetchone()
    assert row is not None
    oid, superuser, bypassrls, createrole, createdb, can_login = row
    assert (superuser, bypassrls, createrole, createdb, can_login) == (False, False, False, False, True)
    owned = owner_conn.execute(
        """
        SELECT 'relation ' || relname FROM pg_class WHERE relowner = %(oid)s
        UNION ALL SELECT 'schema ' || nspname FROM pg_namespace WHERE nspowner = %(oid)s
        UNION ALL SELECT 'function ' || proname FROM pg_proc WHERE proowner = %(oid)s
        UNION ALL SELECT 'type ' || typname FROM pg_type WHERE typowner = %(oid)s
        """,
        {"oid": oid},
    ).fetchall()
    assert owned == []
    (can_create,) = owner_conn.execute(
        "SELECT has_schema_privilege(%s, 'public', 'CREATE')", (DEFAULT_APP_ROLE,)
    ).fetchone() or (None,)
    assert can_create is False


def test_app_role_may_only_read_the_migration_table(owner_conn: psycopg.Connection) -> None:
    """It reads the schema's revision (a server holding the app login alone checks it at start)
    and can change nothing there."""
    privileges = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
    allowed = {
        privilege
        for privilege in privileges
        if (
            owner_conn.execute(
                "SELECT has_table_privilege(%s, 'alembic_version', %s)", (DEFAULT_APP_ROLE, privilege)
            ).fetchone()
            or (False,)
        )[0]
    }
    assert allowed == {"SELECT"}
