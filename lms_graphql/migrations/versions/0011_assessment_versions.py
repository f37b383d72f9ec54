"""assessment versions

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 02:20:00

Changing an assessment's questions or scoring once submissions exist makes a new version: the
one before is kept in assessment_versions, and every submission names the version it answered
(existing ones answered version 1, the only one there was).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

from lms_graphql.migration_helpers import secure_tenant_table

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("assessments", sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False))
    op.add_column(
        "submissions", sa.Column("assessment_version", sa.Integer(), server_default=sa.text("1"), nullable=False)
    )
    op.create_table(
        "assessment_versions",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("questions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("max_score", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("passing_score", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f("ck_assessment_versions_version_positive")),
        sa.CheckConstraint("jsonb_typeof(questions) = 'array'", name=op.f("ck_assessment_versions_questions_array")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "assessment_id"],
            ["assessments.tenant_id", "assessments.id"],
            name=op.f("fk_assessment_versions_tenant_id_assessment_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_assessment_versions_tenant_id")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_assessment_versions")),
        sa.UniqueConstraint(
            "tenant_id", "assessment_id", "version", name=op.f("uq_assessment_versions_tenant_id_assessment_id_version")
        ),
    )
    secure_tenant_table("assessment_versions", context.config.attributes["app_role"], "SELECT, INSERT")


def downgrade() -> None:
    op.drop_table("assessment_versions")
    op.drop_column("submissions", "assessment_version")
    op.drop_column("assessments", "version")
