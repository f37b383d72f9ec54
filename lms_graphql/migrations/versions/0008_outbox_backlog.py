"""the outbox backlog, for metrics

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 22:30:00

GET /metrics reports how many events wait for the relay and how old the oldest is. Row-level
security shows the app role one tenant at a time, so outbox_backlog() visits the active tenants
in turn, binding each as a request does (SECURITY INVOKER: it sees nothing the app role could
not), and restores the caller's binding. One index probe per tenant (the partial index of
unpublished events).
"""

from collections.abc import Sequence

from alembic import context, op

from lms_graphql.migration_helpers import quote_ident

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION outbox_backlog(OUT events bigint, OUT oldest timestamptz)
        LANGUAGE plpgsql VOLATILE SECURITY INVOKER
        AS $$
        DECLARE
            tenant uuid;
            counted bigint;
            first_at timestamptz;
            bound text := current_setting('app.current_tenant_id', true);
        BEGIN
            events := 0;
            FOR tenant IN SELECT id FROM tenants WHERE is_active LOOP
                PERFORM set_config('app.current_tenant_id', tenant::text, true);
                SELECT count(*), min(occurred_at) INTO counted, first_at
                FROM domain_events WHERE tenant_id = tenant AND published_at IS NULL;
                events := events + counted;
                oldest := LEAST(oldest, first_at);
            END LOOP;
            PERFORM set_config('app.current_tenant_id', coalesce(bound, ''), true);
        END
        $$
        """
    )
    op.execute("REVOKE EXECUTE ON FUNCTION outbox_backlog() FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION outbox_backlog() TO {quote_ident(context.config.attributes['app_role'])}")


def downgrade() -> None:
    op.execute("DROP FUNCTION outbox_backlog()")
