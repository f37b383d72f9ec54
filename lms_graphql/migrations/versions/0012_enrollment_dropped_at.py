"""when an enrollment was dropped

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 02:30:00

A learner leaves a course (dropEnrollment) or is removed from it (removeStudent): the seat is
freed, the enrollment and its progress are kept as history, with the time it happened.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("enrollments", sa.Column("dropped_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("enrollments", "dropped_at")
