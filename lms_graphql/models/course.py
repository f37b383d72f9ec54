from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from lms_graphql.models.base import Base, TenantOwned, created_at_column, one_of, updated_at_column

COURSE_STATUSES = ("draft", "published", "archived")
CONTENT_TYPES = ("video", "text", "quiz", "assignment")


class Course(TenantOwned, Base):
    __tablename__ = "courses"
    __table_args__ = (
        UniqueConstraint("tenant_id", "slug"),
        ForeignKeyConstraint(["tenant_id", "instructor_id"], ["users.tenant_id", "users.id"]),
        Index(None, "tenant_id", "instructor_id"),
        CheckConstraint("length(btrim(title)) > 0", name="title_not_blank"),
        CheckConstraint(one_of("status", COURSE_STATUSES), name="status_valid"),
        CheckConstraint("max_enrollment IS NULL OR max_enrollment > 0", name="max_enrollment_positive"),
        CheckConstraint("status = 'draft' OR published_at IS NOT NULL", name="published_at_set"),
    )

    instructor_id: Mapped[uuid.UUID]
    title: Mapped[str] = mapped_column(String(500))
    slug: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), server_default="draft")
    max_enrollment: Mapped[int | None]
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class Module(TenantOwned, Base):
    __tablename__ = "modules"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "course_id"], ["courses.tenant_id", "courses.id"], ondelete="CASCADE"),
        # Target of lessons' (tenant, course, module) key: a lesson's course is its module's.
        UniqueConstraint("tenant_id", "course_id", "id"),
        CheckConstraint("length(btrim(title)) > 0", name="title_not_blank"),
        CheckConstraint("position >= 0", name="position_nonnegative"),
    )

    course_id: Mapped[uuid.UUID]
    title: Mapped[str] = mapped_column(String(500))
    position: Mapped[int] = mapped_column(server_default=text("0"))
    # Removed while lessons in it had learner progress: kept for that history, shown nowhere.
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Learning path rules (module_lock(), migration 0014): locked until then, or until every
    # lesson of the module before it is completed.
    unlock_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    requires_previous: Mapped[bool] = mapped_column(server_default=text("false"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class Lesson(TenantOwned, Base):
    __tablename__ = "lessons"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "course_id", "module_id"],
            ["modules.tenant_id", "modules.course_id", "modules.id"],
            ondelete="CASCADE",
        ),
        UniqueConstraint("tenant_id", "course_id", "id"),
        Index(None, "tenant_id", "module_id", "position"),
        CheckConstraint("length(btrim(title)) > 0", name="title_not_blank"),
        CheckConstraint(one_of("content_type", CONTENT_TYPES), name="content_type_valid"),
        CheckConstraint("duration_min IS NULL OR duration_min >= 0", name="duration_nonnegative"),
        CheckConstraint("position >= 0", name="position_nonnegative"),
    )

    # Denormalised from the module (and kept equal by the composite key) so that course-wide
    # progress needs no join through modules.
    course_id: Mapped[uuid.UUID]
    module_id: Mapped[uuid.UUID]
    title: Mapped[str] = mapped_column(String(500))
    content_type: Mapped[str] = mapped_column(String(30))
    content_ref: Mapped[str | None] = mapped_column(Text)
    duration_min: Mapped[int | None]
    position: Mapped[int] = mapped_column(server_default=text("0"))
    # Removed while it had learner progress: kept for that history, counted and shown nowhere.
    # Positions are dense among the live lessons of a module only.
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Locked until the lesson before it (in the course's reading order) is completed.
    requires_previous: Mapped[bool] = mapped_column(server_default=text("false"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
