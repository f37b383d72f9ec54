"""outbox relay indexes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 22:33:50.111185
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_domain_events_tenant_id_course_id_occurred_at"),
        "domain_events",
        ["tenant_id", "course_id", "occurred_at"],
        unique=False,
    )
    op.create_index(
        "ix_domain_events_tenant_id_unpublished",
        "domain_events",
        ["tenant_id", "occurred_at"],
        unique=False,
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.create_index(
        op.f("ix_notifications_tenant_id_event_id"), "notifications", ["tenant_id", "event_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_notifications_tenant_id_event_id"), table_name="notifications")
    op.drop_index(
        "ix_domain_events_tenant_id_unpublished",
        table_name="domain_events",
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.drop_index(op.f("ix_domain_events_tenant_id_course_id_occurred_at"), table_name="domain_events")
