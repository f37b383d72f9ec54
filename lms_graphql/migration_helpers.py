"""Statements the migrations share: the app role, and RLS for a tenant-owned table.

Kept small and stable on purpose: migrations are history, and they import this.
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import context, op
from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# The policy reads the transaction-local setting through a sub-select (evaluated once per
# statement); NULLIF because after a transaction that set it the setting reads '' not NULL.
# No tenant bound -> NULL -> no row matches: zero rows, never all rows.
TENANT_POLICY = "tenant_id = (SELECT NULLIF(current_setting('app.current_tenant_id', true), '')::uuid)"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def ensure_app_role(role: str) -> None:
    literal = "'" + role.replace("'", "''") + "'"
    op.execute(
        f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {literal}) THEN
                CREATE ROLE {quote_ident(role)} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
            END IF;
        END
        $$
        """
    )


def secure_tenant_table(table: str, role: str, privileges: str) -> None:
    """Enable and force RLS with the tenant policy; grant the app role ``privileges`` only."""
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    policy = f"USING ({TENANT_POLICY}) WITH CHECK ({TENANT_POLICY})"
    op.execute(f"CREATE POLICY tenant_isolation ON {table} {policy}")
    op.execute(f"GRANT {privileges} ON {table} TO {quote_ident(role)}")


def home_schema() -> str:
    """The schema this run migrates: ``public``, or a bridge tenant's own (kit/homes.py)."""
    return str(context.config.attributes.get("schema") or "public")


def in_bridge_schema() -> bool:
    """A bridge tenant's schema shares its database's job queue and roles with the pool."""
    return home_schema() != "public"


@functools.cache
def schema_head() -> str | None:
    """The newest revision: the schema this code is built for."""
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
