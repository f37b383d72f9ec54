"""course prerequisites

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 02:45:00

A course may require others to be completed before a learner enrolls. course_lock() says, for
one learner, why a course is still locked (the titles of the required courses not completed
yet), or NULL: the one rule that enrolling, the course fields and the compiled reads all use.
SECURITY INVOKER: it sees only what the caller's row-level security lets it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from lms_graphql.migration_helpers import secure_tenant_table

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "course_prerequisites",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("required_course_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("course_id <> required_course_id", name=op.f("ck_course_prerequisites_not_itself")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "course_id"],
            ["courses.tenant_id", "courses.id"],
            name=op.f("fk_course_prerequisites_tenant_id_course_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "required_course_id"],
            ["courses.tenant_id", "courses.id"],
            name=op.f("fk_course_prerequisites_tenant_id_required_course_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_course_prerequisites_tenant_id")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_course_prerequisites")),
        sa.UniqueConstraint(
            "tenant_id",
            "course_id",
            "required_course_id",
            name=op.f("uq_course_prerequisites_tenant_id_course_id_required_course_id"),
        ),
    )
    secure_tenant_table("course_prerequisites", context.config.attributes["app_role"], "SELECT, INSERT, DELETE")
    op.execute(
        """
        CREATE FUNCTION course_lock(p_tenant uuid, p_course uuid, p_user uuid) RETURNS text
        LANGUAGE sql STABLE SECURITY INVOKER PARALLEL SAFE
        AS $$
            SELECT 'complete ' || string_agg(required.title, ', ' ORDER BY required.title, required.id) || ' first'
            FROM course_prerequisites cp
            JOIN courses required ON required.tenant_id = cp.tenant_id AND required.id = cp.required_course_id
            WHERE cp.tenant_id = p_tenant AND cp.course_id = p_course
              AND NOT EXISTS (
                  SELECT 1 FROM enrollments e
                  WHERE e.tenant_id = p_tenant AND e.user_id = p_user AND e.course_id = required.id
                    AND e.status = 'completed'
              )
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION course_lock(uuid, uuid, uuid)")
    op.drop_table("course_prerequisites")
