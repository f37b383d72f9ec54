"""Statements the migrations share: the app role, and RLS for a tenant-owned table.

Kept small and stable on purpose: migrations are history, and they import this.
"""

from __future__ import annotations

from alembic import op

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
