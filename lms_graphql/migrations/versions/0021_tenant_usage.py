"""tenant usage, per day, for billing

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-29 11:00:00

Schema lms_usage, the platform's like procrastinate's (public holds the registry and tenant tables
only, each of them under RLS), in the platform's database.
lms_usage.tenant_days: one row per tenant and day (UTC): API cost units spent and websocket seconds
(added to by every server as they happen), active users, enrolled learners and stored bytes (set
by the housekeeping job). lms_usage.active_users: who was active that day, so servers count each
user once whichever served them; kept two days. Read by operators only (administration/usage.py).
A silo's database gets the schema too, unused; a bridge's schema shares the pool's.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from lms_graphql.migration_helpers import in_bridge_schema, quote_ident

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


SCHEMA = "lms_usage"


def upgrade() -> None:
    if in_bridge_schema():
        return
    op.execute(f"CREATE SCHEMA {SCHEMA}")
    op.create_table(
        "tenant_days",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("active_users", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("enrolled_learners", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("cost_units", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("websocket_seconds", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("stored_bytes", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["public.tenants.id"], name="fk_tenant_days_tenant_id", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "day", name="pk_tenant_days"),
        schema=SCHEMA,
    )
    op.create_index("ix_tenant_days_day", "tenant_days", ["day"], schema=SCHEMA)
    op.create_table(
        "active_users",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["public.tenants.id"], name="fk_active_users_tenant_id", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "day", "user_id", name="pk_active_users"),
        schema=SCHEMA,
    )
    role = quote_ident(context.config.attributes["app_role"])
    op.execute(f"GRANT USAGE ON SCHEMA {SCHEMA} TO {role}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON {SCHEMA}.tenant_days TO {role}")
    op.execute(f"GRANT SELECT, INSERT, DELETE ON {SCHEMA}.active_users TO {role}")


def downgrade() -> None:
    if not in_bridge_schema():
        op.execute(f"DROP SCHEMA {SCHEMA} CASCADE")
