"""job queue

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 04:10:00

The durable job queue (procrastinate 3.10.0's schema, ../sql/procrastinate-3.10.0-schema.sql as
that release ships it), in a schema of its own so that it stays apart from the tenant tables.
Its functions are pinned to that schema (SET search_path), so the app role defers a job from a
tenant transaction by calling procrastinate.procrastinate_defer_jobs_v1: the job exists if and
only if that transaction commits. Jobs are platform rows (no tenant_id, no RLS): their arguments
name the tenant, and the task binds it like a request does.

Upgrading procrastinate means a new revision applying its migrations (procrastinate/sql/migrations)
in this schema.
"""

from collections.abc import Sequence
from pathlib import Path

from alembic import context, op

from lms_graphql.migration_helpers import in_bridge_schema, quote_ident

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA_SQL = Path(__file__).resolve().parent.parent / "sql" / "procrastinate-3.10.0-schema.sql"


def upgrade() -> None:
    if in_bridge_schema():  # the database's queue, made when its public schema was
        return
    role = quote_ident(context.config.attributes["app_role"])
    op.execute("CREATE SCHEMA procrastinate")
    op.execute("SET LOCAL search_path = procrastinate")
    # Verbatim, through psycopg itself: with no parameters it reads no placeholders ('%' in the SQL).
    op.get_bind().connection.driver_connection.execute(SCHEMA_SQL.read_text(encoding="utf-8"))
    op.execute("SET LOCAL search_path TO DEFAULT")
    op.execute(
        """
        DO $$
        DECLARE f record;
        BEGIN
            FOR f IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
                     JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'procrastinate'
            LOOP
                EXECUTE format('ALTER FUNCTION %s SET search_path = procrastinate, pg_catalog', f.signature);
            END LOOP;
        END
        $$
        """
    )
    op.execute(f"GRANT USAGE ON SCHEMA procrastinate TO {role}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA procrastinate TO {role}")
    op.execute(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA procrastinate TO {role}")


def downgrade() -> None:
    if not in_bridge_schema():
        op.execute("DROP SCHEMA procrastinate CASCADE")
