from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from lms_graphql.models.base import Base, TenantOwned, created_at_column, one_of, updated_at_column

ENROLLMENT_STATUSES = ("active", "completed", "dropped")
PROGRESS_STATUSES = ("not_started", "in_progress", "completed")


class Enrollment(TenantOwned, Base):
    __tablename__ = "enrollments"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id", "course_id"),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"]),
        ForeignKeyConstraint(["tenant_id", "course_id"], ["courses.tenant_id", "courses.id"]),
        # With the status, seat counts per course are index-only scans.
        Index(None, "tenant_id", "course_id", "status"),
        CheckConstraint(one_of("status", ENROLLMENT_STATUSES), name="status_valid"),
        CheckConstraint("progress_pct BETWEEN 0 AND 100", name="progress_pct_range"),
        CheckConstraint("status <> 'completed' OR completed_at IS NOT NULL", name="completed_at_set"),
    )

    user_id: Mapped[uuid.UUID]
    course_id: Mapped[uuid.UUID]
    status: Mapped[str] = mapped_column(String(20), server_default="active")
    # Course percent: completed lessons / all lessons, kept current by progress writes.
    progress_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2), server_default=text("0"))
    enrolled_at: Mapped[datetime] = created_at_column()
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_accessed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the learner left (dropEnrollment) or was removed (removeStudent): the seat is free,
    # the enrollment and its progress stay as history; enrolling again reopens it.
    dropped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = updated_at_column()


class LessonProgress(TenantOwned, Base):
    __tablename__ = "lesson_progress"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id", "lesson_id"),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"]),
        ForeignKeyConstraint(
            ["tenant_id", "course_id", "lesson_id"],
            ["lessons.tenant_id", "lessons.course_id", "lessons.id"],
            ondelete="CASCADE",
        ),
        # Progress exists only inside an enrollment in the lesson's course.
        ForeignKeyConstraint(
            ["tenant_id", "user_id", "course_id"],
            ["enrollments.tenant_id", "enrollments.user_id", "enrollments.course_id"],
        ),
        Index(None, "tenant_id", "course_id", "lesson_id"),
        Index(None, "tenant_id", "user_id", "course_id"),
        CheckConstraint(one_of("status", PROGRESS_STATUSES), name="status_valid"),
        CheckConstraint("progress_pct BETWEEN 0 AND 100", name="progress_pct_range"),
        CheckConstraint("status <> 'completed' OR progress_pct = 100", name="completed_is_full"),
    )

    user_id: Mapped[uuid.UUID]
    course_id: Mapped[uuid.UUID]
    lesson_id: Mapped[uuid.UUID]
    status: Mapped[str] = mapped_column(String(20), server_default="not_started")
    progress_pct: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
