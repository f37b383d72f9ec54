from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from lms_graphql.models.base import Base, TenantOwned, created_at_column, one_of, updated_at_column

ASSESSMENT_TYPES = ("quiz", "exam", "assignment", "peer_review")
SUBMISSION_STATUSES = ("in_progress", "submitted", "graded")


class Assessment(TenantOwned, Base):
    __tablename__ = "assessments"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "course_id"], ["courses.tenant_id", "courses.id"], ondelete="CASCADE"),
        Index(None, "tenant_id", "course_id"),
        CheckConstraint("length(btrim(title)) > 0", name="title_not_blank"),
        CheckConstraint(one_of("assessment_type", ASSESSMENT_TYPES), name="type_valid"),
        CheckConstraint("max_score > 0", name="max_score_positive"),
        CheckConstraint("passing_score >= 0 AND passing_score <= max_score", name="passing_score_range"),
        CheckConstraint("time_limit_min IS NULL OR time_limit_min > 0", name="time_limit_positive"),
        CheckConstraint("max_attempts IS NULL OR max_attempts >= 1", name="max_attempts_positive"),
        CheckConstraint("jsonb_typeof(questions) = 'array'", name="questions_array"),
    )

    course_id: Mapped[uuid.UUID]
    title: Mapped[str] = mapped_column(String(500))
    assessment_type: Mapped[str] = mapped_column(String(30))
    max_score: Mapped[Decimal] = mapped_column(Numeric(6, 2), server_default=text("100"))
    passing_score: Mapped[Decimal] = mapped_column(Numeric(6, 2), server_default=text("60"))
    time_limit_min: Mapped[int | None]
    # NULL: unlimited attempts.
    max_attempts: Mapped[int | None] = mapped_column(server_default=text("1"))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # False: submissions after due_at are refused instead of flagged late.
    accepts_late: Mapped[bool] = mapped_column(server_default=text("true"))
    questions: Mapped[list[Any]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    # Raised when its questions or scoring change after submissions exist; the versions before
    # are kept in assessment_versions, and each submission names the one it answered.
    version: Mapped[int] = mapped_column(server_default=text("1"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class AssessmentVersion(TenantOwned, Base):
    """An assessment's questions and scoring as they were before a later version replaced them."""

    __tablename__ = "assessment_versions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "assessment_id", "version"),
        ForeignKeyConstraint(
            ["tenant_id", "assessment_id"], ["assessments.tenant_id", "assessments.id"], ondelete="CASCADE"
        ),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("jsonb_typeof(questions) = 'array'", name="questions_array"),
    )

    assessment_id: Mapped[uuid.UUID]
    version: Mapped[int]
    questions: Mapped[list[Any]] = mapped_column(JSONB)
    max_score: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    passing_score: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    created_at: Mapped[datetime] = created_at_column()


class Submission(TenantOwned, Base):
    __tablename__ = "submissions"
    __table_args__ = (
        # One row per attempt: parallel submits cannot create the same attempt twice.
        UniqueConstraint("tenant_id", "assessment_id", "user_id", "attempt_number"),
        ForeignKeyConstraint(
            ["tenant_id", "assessment_id"], ["assessments.tenant_id", "assessments.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"]),
        ForeignKeyConstraint(["tenant_id", "graded_by"], ["users.tenant_id", "users.id"]),
        Index(None, "tenant_id", "user_id"),
        CheckConstraint("attempt_number >= 1", name="attempt_number_positive"),
        CheckConstraint("score IS NULL OR score >= 0", name="score_nonnegative"),
        CheckConstraint(one_of("status", SUBMISSION_STATUSES), name="status_valid"),
        CheckConstraint("status = 'in_progress' OR submitted_at IS NOT NULL", name="submitted_at_set"),
        CheckConstraint("status <> 'graded' OR (score IS NOT NULL AND graded_at IS NOT NULL)", name="graded_has_score"),
    )

    assessment_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID]
    attempt_number: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"))
    # The version of the assessment's questions it answered (set when submitted).
    assessment_version: Mapped[int] = mapped_column(server_default=text("1"))
    answers: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    score: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    passed: Mapped[bool | None]
    feedback: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), server_default="submitted")
    is_late: Mapped[bool] = mapped_column(server_default=text("false"))
    started_at: Mapped[datetime] = created_at_column()
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    graded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    graded_by: Mapped[uuid.UUID | None]
    updated_at: Mapped[datetime] = updated_at_column()


class SubmissionGrade(TenantOwned, Base):
    """Every grade given to a submission, so regrading leaves a record."""

    __tablename__ = "submission_grades"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "submission_id"], ["submissions.tenant_id", "submissions.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(["tenant_id", "graded_by"], ["users.tenant_id", "users.id"]),
        Index(None, "tenant_id", "submission_id"),
        CheckConstraint("score >= 0", name="score_nonnegative"),
    )

    submission_id: Mapped[uuid.UUID]
    score: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    feedback: Mapped[str | None] = mapped_column(Text)
    graded_by: Mapped[uuid.UUID | None]
    graded_at: Mapped[datetime] = created_at_column()


class AssessmentReminder(TenantOwned, Base):
    """A learner was reminded that the assessment is due at ``due_at``: once per learner, assessment
    and due date, however many workers look (the unique key), again if the due date moves."""

    __tablename__ = "assessment_reminders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "assessment_id", "user_id", "due_at"),
        ForeignKeyConstraint(
            ["tenant_id", "assessment_id"], ["assessments.tenant_id", "assessments.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"]),
    )

    assessment_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID]
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
