"""archived modules and lessons; dense positions

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 02:10:00

A lesson (or a module holding one) that learners have progress on is archived when it is
removed, not deleted: its progress stays as history, and it stops being shown and counted.
Positions stay dense (0, 1, 2...) among the live siblings: they already are, since content
could only be added (appended, or inserted with the later siblings moved down).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("modules", "lessons"):
        op.add_column(table, sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("lessons", "archived_at")
    op.drop_column("modules", "archived_at")
