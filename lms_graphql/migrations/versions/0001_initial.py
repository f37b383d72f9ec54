"""initial data model with row-level security

Every tenant-owned table: key (tenant_id, id), composite foreign keys, RLS enabled and forced
with one policy (USING and WITH CHECK). The app role is created here and granted only the
statements the application issues.

Revision ID: 0001
Revises:
Create Date: 2026-11-27 21:56:24.907287
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

from lms_graphql.migration_helpers import ensure_app_role, home_schema, quote_ident, secure_tenant_table

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("plan", sa.String(length=20), server_default="free", nullable=False),
        sa.Column("region", sa.String(length=32), server_default="eu-west-1", nullable=False),
        sa.Column(
            "features",
            postgresql.ARRAY(sa.String(length=64)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("max_users", sa.Integer(), server_default=sa.text("100"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "settings",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("placement", sa.String(length=63), server_default="shared", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "NOT (slug IN ('www', 'api', 'admin', 'status'))",
            name=op.f("ck_tenants_slug_not_reserved"),
        ),
        sa.CheckConstraint("plan IN ('free', 'pro', 'enterprise')", name=op.f("ck_tenants_plan_valid")),
        sa.CheckConstraint(
            "region IN ('eu-west-1', 'us-east-1', 'ap-southeast-1')",
            name=op.f("ck_tenants_region_valid"),
        ),
        sa.CheckConstraint(
            "slug ~ '^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$'",
            name=op.f("ck_tenants_slug_format"),
        ),
        sa.CheckConstraint("length(btrim(name)) > 0", name=op.f("ck_tenants_name_not_blank")),
        sa.CheckConstraint("max_users > 0", name=op.f("ck_tenants_max_users_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        sa.UniqueConstraint("slug", name=op.f("uq_tenants_slug")),
    )
    op.create_table(
        "users",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("full_name", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=20), server_default="student", nullable=False),
        sa.Column("avatar_url", sa.Text(), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("token_version", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "email = lower(email) AND position('@' in email) > 1",
            name=op.f("ck_users_email_normalized"),
        ),
        sa.CheckConstraint(
            "role IN ('student', 'instructor', 'admin', 'super_admin')",
            name=op.f("ck_users_role_valid"),
        ),
        sa.CheckConstraint("length(btrim(full_name)) > 0", name=op.f("ck_users_full_name_not_blank")),
        sa.CheckConstraint("token_version >= 0", name=op.f("ck_users_token_version_nonnegative")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_users_tenant_id")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_users")),
        sa.UniqueConstraint("tenant_id", "email", name=op.f("uq_users_tenant_id_email")),
    )
    op.create_table(
        "courses",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("instructor_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("slug", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), server_default="draft", nullable=False),
        sa.Column("max_enrollment", sa.Integer(), nullable=True),
        sa.Column(
            "settings",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status = 'draft' OR published_at IS NOT NULL",
            name=op.f("ck_courses_published_at_set"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'published', 'archived')",
            name=op.f("ck_courses_status_valid"),
        ),
        sa.CheckConstraint("length(btrim(title)) > 0", name=op.f("ck_courses_title_not_blank")),
        sa.CheckConstraint(
            "max_enrollment IS NULL OR max_enrollment > 0",
            name=op.f("ck_courses_max_enrollment_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "instructor_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_courses_tenant_id_instructor_id"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_courses_tenant_id")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_courses")),
        sa.UniqueConstraint("tenant_id", "slug", name=op.f("uq_courses_tenant_id_slug")),
    )
    op.create_index(
        op.f("ix_courses_tenant_id_instructor_id"),
        "courses",
        ["tenant_id", "instructor_id"],
        unique=False,
    )
    op.create_table(
        "domain_events",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("course_id", sa.Uuid(), nullable=True),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.SmallInteger(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "payload",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_domain_events_tenant_id_user_id"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_domain_events_tenant_id")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_domain_events")),
    )
    op.create_index(
        op.f("ix_domain_events_tenant_id_occurred_at"),
        "domain_events",
        ["tenant_id", "occurred_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_domain_events_tenant_id_user_id_occurred_at"),
        "domain_events",
        ["tenant_id", "user_id", "occurred_at"],
        unique=False,
    )
    op.create_table(
        "notifications",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=True),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column(
            "payload",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_notifications_tenant_id_user_id"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_notifications_tenant_id")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_notifications")),
        sa.UniqueConstraint(
            "tenant_id",
            "user_id",
            "event_id",
            name=op.f("uq_notifications_tenant_id_user_id_event_id"),
        ),
    )
    op.create_index(
        op.f("ix_notifications_tenant_id_user_id_created_at"),
        "notifications",
        ["tenant_id", "user_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "assessments",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("assessment_type", sa.String(length=30), nullable=False),
        sa.Column(
            "max_score",
            sa.Numeric(precision=6, scale=2),
            server_default=sa.text("100"),
            nullable=False,
        ),
        sa.Column(
            "passing_score",
            sa.Numeric(precision=6, scale=2),
            server_default=sa.text("60"),
            nullable=False,
        ),
        sa.Column("time_limit_min", sa.Integer(), nullable=True),
        sa.Column("max_attempts", sa.Integer(), server_default=sa.text("1"), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepts_late", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "questions",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "assessment_type IN ('quiz', 'exam', 'assignment', 'peer_review')",
            name=op.f("ck_assessments_type_valid"),
        ),
        sa.CheckConstraint(
            "jsonb_typeof(questions) = 'array'",
            name=op.f("ck_assessments_questions_array"),
        ),
        sa.CheckConstraint("length(btrim(title)) > 0", name=op.f("ck_assessments_title_not_blank")),
        sa.CheckConstraint(
            "max_attempts IS NULL OR max_attempts >= 1",
            name=op.f("ck_assessments_max_attempts_positive"),
        ),
        sa.CheckConstraint("max_score > 0", name=op.f("ck_assessments_max_score_positive")),
        sa.CheckConstraint(
            "passing_score >= 0 AND passing_score <= max_score",
            name=op.f("ck_assessments_passing_score_range"),
        ),
        sa.CheckConstraint(
            "time_limit_min IS NULL OR time_limit_min > 0",
            name=op.f("ck_assessments_time_limit_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "course_id"],
            ["courses.tenant_id", "courses.id"],
            name=op.f("fk_assessments_tenant_id_course_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_assessments_tenant_id")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_assessments")),
    )
    op.create_index(
        op.f("ix_assessments_tenant_id_course_id"),
        "assessments",
        ["tenant_id", "course_id"],
        unique=False,
    )
    op.create_table(
        "certificates",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("verification_code", sa.String(length=64), nullable=False),
        sa.Column(
            "issued_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "course_id"],
            ["courses.tenant_id", "courses.id"],
            name=op.f("fk_certificates_tenant_id_course_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_certificates_tenant_id_user_id"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_certificates_tenant_id")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_certificates")),
        sa.UniqueConstraint(
            "tenant_id",
            "user_id",
            "course_id",
            name=op.f("uq_certificates_tenant_id_user_id_course_id"),
        ),
        sa.UniqueConstraint(
            "tenant_id",
            "verification_code",
            name=op.f("uq_certificates_tenant_id_verification_code"),
        ),
    )
    op.create_table(
        "enrollments",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="active", nullable=False),
        sa.Column(
            "progress_pct",
            sa.Numeric(precision=5, scale=2),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "enrolled_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_accessed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status <> 'completed' OR completed_at IS NOT NULL",
            name=op.f("ck_enrollments_completed_at_set"),
        ),
        sa.CheckConstraint(
            "status IN ('active', 'completed', 'dropped')",
            name=op.f("ck_enrollments_status_valid"),
        ),
        sa.CheckConstraint(
            "progress_pct BETWEEN 0 AND 100",
            name=op.f("ck_enrollments_progress_pct_range"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "course_id"],
            ["courses.tenant_id", "courses.id"],
            name=op.f("fk_enrollments_tenant_id_course_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_enrollments_tenant_id_user_id"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_enrollments_tenant_id")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_enrollments")),
        sa.UniqueConstraint(
            "tenant_id",
            "user_id",
            "course_id",
            name=op.f("uq_enrollments_tenant_id_user_id_course_id"),
        ),
    )
    op.create_index(
        op.f("ix_enrollments_tenant_id_course_id"),
        "enrollments",
        ["tenant_id", "course_id"],
        unique=False,
    )
    op.create_table(
        "modules",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("position", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("length(btrim(title)) > 0", name=op.f("ck_modules_title_not_blank")),
        sa.CheckConstraint("position >= 0", name=op.f("ck_modules_position_nonnegative")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "course_id"],
            ["courses.tenant_id", "courses.id"],
            name=op.f("fk_modules_tenant_id_course_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_modules_tenant_id")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_modules")),
        sa.UniqueConstraint(
            "tenant_id",
            "course_id",
            "id",
            name=op.f("uq_modules_tenant_id_course_id_id"),
        ),
    )
    op.create_table(
        "lessons",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("module_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("content_type", sa.String(length=30), nullable=False),
        sa.Column("content_ref", sa.Text(), nullable=True),
        sa.Column("duration_min", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "content_type IN ('video', 'text', 'quiz', 'assignment')",
            name=op.f("ck_lessons_content_type_valid"),
        ),
        sa.CheckConstraint(
            "duration_min IS NULL OR duration_min >= 0",
            name=op.f("ck_lessons_duration_nonnegative"),
        ),
        sa.CheckConstraint("length(btrim(title)) > 0", name=op.f("ck_lessons_title_not_blank")),
        sa.CheckConstraint("position >= 0", name=op.f("ck_lessons_position_nonnegative")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "course_id", "module_id"],
            ["modules.tenant_id", "modules.course_id", "modules.id"],
            name=op.f("fk_lessons_tenant_id_course_id_module_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_lessons_tenant_id")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_lessons")),
        sa.UniqueConstraint(
            "tenant_id",
            "course_id",
            "id",
            name=op.f("uq_lessons_tenant_id_course_id_id"),
        ),
    )
    op.create_index(
        op.f("ix_lessons_tenant_id_module_id_position"),
        "lessons",
        ["tenant_id", "module_id", "position"],
        unique=False,
    )
    op.create_table(
        "submissions",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column(
            "attempt_number",
            sa.SmallInteger(),
            server_default=sa.text("1"),
            nullable=False,
        ),
        sa.Column(
            "answers",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("score", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("feedback", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), server_default="submitted", nullable=False),
        sa.Column("is_late", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("graded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("graded_by", sa.Uuid(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status <> 'graded' OR (score IS NOT NULL AND graded_at IS NOT NULL)",
            name=op.f("ck_submissions_graded_has_score"),
        ),
        sa.CheckConstraint(
            "status = 'in_progress' OR submitted_at IS NOT NULL",
            name=op.f("ck_submissions_submitted_at_set"),
        ),
        sa.CheckConstraint(
            "status IN ('in_progress', 'submitted', 'graded')",
            name=op.f("ck_submissions_status_valid"),
        ),
        sa.CheckConstraint("attempt_number >= 1", name=op.f("ck_submissions_attempt_number_positive")),
        sa.CheckConstraint("score IS NULL OR score >= 0", name=op.f("ck_submissions_score_nonnegative")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "assessment_id"],
            ["assessments.tenant_id", "assessments.id"],
            name=op.f("fk_submissions_tenant_id_assessment_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "graded_by"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_submissions_tenant_id_graded_by"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_submissions_tenant_id_user_id"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_submissions_tenant_id")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_submissions")),
        sa.UniqueConstraint(
            "tenant_id",
            "assessment_id",
            "user_id",
            "attempt_number",
            name=op.f("uq_submissions_tenant_id_assessment_id_user_id_attempt_number"),
        ),
    )
    op.create_index(
        op.f("ix_submissions_tenant_id_user_id"),
        "submissions",
        ["tenant_id", "user_id"],
        unique=False,
    )
    op.create_table(
        "lesson_progress",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("lesson_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="not_started", nullable=False),
        sa.Column(
            "progress_pct",
            sa.SmallInteger(),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status <> 'completed' OR progress_pct = 100",
            name=op.f("ck_lesson_progress_completed_is_full"),
        ),
        sa.CheckConstraint(
            "status IN ('not_started', 'in_progress', 'completed')",
            name=op.f("ck_lesson_progress_status_valid"),
        ),
        sa.CheckConstraint(
            "progress_pct BETWEEN 0 AND 100",
            name=op.f("ck_lesson_progress_progress_pct_range"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "course_id", "lesson_id"],
            ["lessons.tenant_id", "lessons.course_id", "lessons.id"],
            name=op.f("fk_lesson_progress_tenant_id_course_id_lesson_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id", "course_id"],
            ["enrollments.tenant_id", "enrollments.user_id", "enrollments.course_id"],
            name=op.f("fk_lesson_progress_tenant_id_user_id_course_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_lesson_progress_tenant_id_user_id"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_lesson_progress_tenant_id")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_lesson_progress")),
        sa.UniqueConstraint(
            "tenant_id",
            "user_id",
            "lesson_id",
            name=op.f("uq_lesson_progress_tenant_id_user_id_lesson_id"),
        ),
    )
    op.create_index(
        op.f("ix_lesson_progress_tenant_id_course_id_lesson_id"),
        "lesson_progress",
        ["tenant_id", "course_id", "lesson_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_lesson_progress_tenant_id_user_id_course_id"),
        "lesson_progress",
        ["tenant_id", "user_id", "course_id"],
        unique=False,
    )
    op.create_table(
        "submission_grades",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("score", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("feedback", sa.Text(), nullable=True),
        sa.Column("graded_by", sa.Uuid(), nullable=True),
        sa.Column(
            "graded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("score >= 0", name=op.f("ck_submission_grades_score_nonnegative")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "graded_by"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_submission_grades_tenant_id_graded_by"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "submission_id"],
            ["submissions.tenant_id", "submissions.id"],
            name=op.f("fk_submission_grades_tenant_id_submission_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_submission_grades_tenant_id")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_submission_grades")),
    )
    op.create_index(
        op.f("ix_submission_grades_tenant_id_submission_id"),
        "submission_grades",
        ["tenant_id", "submission_id"],
        unique=False,
    )

    _secure_for_app_role(context.config.attributes["app_role"])


def downgrade() -> None:
    op.drop_index(
        op.f("ix_submission_grades_tenant_id_submission_id"),
        table_name="submission_grades",
    )
    op.drop_table("submission_grades")
    op.drop_index(
        op.f("ix_lesson_progress_tenant_id_user_id_course_id"),
        table_name="lesson_progress",
    )
    op.drop_index(
        op.f("ix_lesson_progress_tenant_id_course_id_lesson_id"),
        table_name="lesson_progress",
    )
    op.drop_table("lesson_progress")
    op.drop_index(op.f("ix_submissions_tenant_id_user_id"), table_name="submissions")
    op.drop_table("submissions")
    op.drop_index(op.f("ix_lessons_tenant_id_module_id_position"), table_name="lessons")
    op.drop_table("lessons")
    op.drop_table("modules")
    op.drop_index(op.f("ix_enrollments_tenant_id_course_id"), table_name="enrollments")
    op.drop_table("enrollments")
    op.drop_table("certificates")
    op.drop_index(op.f("ix_assessments_tenant_id_course_id"), table_name="assessments")
    op.drop_table("assessments")
    op.drop_index(
        op.f("ix_notifications_tenant_id_user_id_created_at"),
        table_name="notifications",
    )
    op.drop_table("notifications")
    op.drop_index(
        op.f("ix_domain_events_tenant_id_user_id_occurred_at"),
        table_name="domain_events",
    )
    op.drop_index(op.f("ix_domain_events_tenant_id_occurred_at"), table_name="domain_events")
    op.drop_table("domain_events")
    op.drop_index(op.f("ix_courses_tenant_id_instructor_id"), table_name="courses")
    op.drop_table("courses")
    op.drop_table("users")
    op.drop_table("tenants")


# What the application does with each table, and nothing more.
APP_PRIVILEGES = {
    "users": "SELECT, INSERT, UPDATE",
    "courses": "SELECT, INSERT, UPDATE",
    "modules": "SELECT, INSERT, UPDATE, DELETE",
    "lessons": "SELECT, INSERT, UPDATE, DELETE",
    "enrollments": "SELECT, INSERT, UPDATE",
    "lesson_progress": "SELECT, INSERT, UPDATE",
    "assessments": "SELECT, INSERT, UPDATE, DELETE",
    "submissions": "SELECT, INSERT, UPDATE",
    "submission_grades": "SELECT, INSERT",
    "certificates": "SELECT, INSERT",
    "notifications": "SELECT, INSERT, UPDATE, DELETE",
    "domain_events": "SELECT, INSERT, UPDATE, DELETE",
}


def _secure_for_app_role(role: str) -> None:
    ensure_app_role(role)
    # PostgreSQL < 15 lets every role create objects in public; the app role must own nothing.
    op.execute(f"REVOKE CREATE ON SCHEMA {quote_ident(home_schema())} FROM PUBLIC")
    op.execute(f"GRANT USAGE ON SCHEMA {quote_ident(home_schema())} TO {quote_ident(role)}")
    # The registry: looked up before a tenant is known, written by platform operators.
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON tenants TO {quote_ident(role)}")
    for table, privileges in APP_PRIVILEGES.items():
        secure_tenant_table(table, role, privileges)
