"""lms_bind_writes(): whether a tenant's transaction may write in this home

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-29 07:10:00

Called by the statement that binds every tenant transaction (kit/db.py). It takes the tenant's
lock shared (a move takes it exclusively to wait out the writers that began before it froze the
tenant), then reads the home's row of the tenant with a snapshot taken after that lock was
granted (a VOLATILE function's statements each take a fresh one): frozen, the transaction turns
read-only; naming another placement (the tenant moved away, and this process has not heard yet),
it fails with SQLSTATE LMS01, and the caller looks the home up again. Its search_path is pinned
to its own home, so it reads that home's tenants whatever the caller's path.
"""

from collections.abc import Sequence

from alembic import context, op

from lms_graphql.migration_helpers import home_schema, quote_ident

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_LOCK_SEED = 7_253_018_335


def upgrade() -> None:
    schema = quote_ident(home_schema())
    op.execute(
        f"""
        CREATE FUNCTION lms_bind_writes(p_tenant uuid, p_placement text) RETURNS boolean
        LANGUAGE plpgsql VOLATILE SECURITY INVOKER
        SET search_path = {schema}
        AS $$
        DECLARE
            home_row record;
        BEGIN
            PERFORM pg_advisory_xact_lock_shared(hashtextextended(p_tenant::text, {TENANT_LOCK_SEED}));
            SELECT frozen, placement INTO home_row FROM tenants WHERE id = p_tenant;
            IF NOT FOUND THEN
                RETURN true;
            END IF;
            IF home_row.placement <> p_placement THEN
                RAISE EXCEPTION 'tenant % is no longer served from this home', p_tenant USING ERRCODE = 'LMS01';
            END IF;
            IF home_row.frozen THEN
                PERFORM set_config('transaction_read_only', 'on', true);
                RETURN false;
            END IF;
            RETURN true;
        END
        $$
        """
    )
    op.execute("REVOKE EXECUTE ON FUNCTION lms_bind_writes(uuid, text) FROM PUBLIC")
    role = quote_ident(context.config.attributes["app_role"])
    op.execute(f"GRANT EXECUTE ON FUNCTION lms_bind_writes(uuid, text) TO {role}")


def downgrade() -> None:
    op.execute("DROP FUNCTION lms_bind_writes(uuid, text)")
