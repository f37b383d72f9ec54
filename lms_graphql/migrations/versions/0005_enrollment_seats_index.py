"""enrollments by course and status: seat counts from the index alone

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 01:58:00

Counting a course's active and completed enrollments (the dashboard's seat counts, the
enrollment cap, course statistics) read every enrollment row of the course from the table to
check its status; with the status in the index the count is an index-only scan.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_enrollments_tenant_id_course_id_status"),
        "enrollments",
        ["tenant_id", "course_id", "status"],
        unique=False,
    )
    op.drop_index(op.f("ix_enrollments_tenant_id_course_id"), table_name="enrollments")


def downgrade() -> None:
    op.create_index(op.f("ix_enrollments_tenant_id_course_id"), "enrollments", ["tenant_id", "course_id"], unique=False)
    op.drop_index(op.f("ix_enrollments_tenant_id_course_id_status"), table_name="enrollments")
