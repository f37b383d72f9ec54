"""idempotency keys and audit of every mutation

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 22:58:21.281572
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

from lms_graphql.migration_helpers import secure_tenant_table

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("response_status", sa.SmallInteger(), nullable=True),
        sa.Column("response_body", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("state IN ('running', 'done')", name=op.f("ck_idempotency_keys_state_valid")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_idempotency_keys_tenant_id")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("tenant_id", "user_id", "key", name=op.f("uq_idempotency_keys_tenant_id_user_id_key")),
    )
    op.alter_column("audit_log", "actor_user_id", existing_type=sa.UUID(), nullable=True)

    secure_tenant_table("idempotency_keys", context.config.attributes["app_role"], "SELECT, INSERT, UPDATE, DELETE")


def downgrade() -> None:
    op.alter_column("audit_log", "actor_user_id", existing_type=sa.UUID(), nullable=False)
    op.drop_table("idempotency_keys")
