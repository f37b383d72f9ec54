"""when a tenant was deactivated

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-29 11:30:00

tenants.deactivated_at: set when a tenant is deactivated, cleared when it is reactivated; `tenant
purge` waits a grace period after it. A tenant inactive before this revision counts from its last
change.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tenants", sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE tenants SET deactivated_at = updated_at WHERE NOT is_active")


def downgrade() -> None:
    op.drop_column("tenants", "deactivated_at")
