"""Stored files (lesson content, submission attachments, branding) and a video's media."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from lms_graphql.models.base import Base, TenantOwned, created_at_column, one_of, updated_at_column

FILE_PURPOSES = ("lesson", "submission", "branding")
# pending: a ticket was handed out; ready: the server checked the object; the rest are gone.
FILE_STATUSES = ("pending", "ready")
MEDIA_STATUSES = ("processing", "ready", "failed")


class StoredFile(TenantOwned, Base):
    """An object in the store, under a key the server built (storage/keys.py)."""

    __tablename__ = "stored_files"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "uploaded_by"], ["users.tenant_id", "users.id"]),
        ForeignKeyConstraint(["tenant_id", "lesson_id"], ["lessons.tenant_id", "lessons.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(
            ["tenant_id", "assessment_id"], ["assessments.tenant_id", "assessments.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(["tenant_id", "submission_id"], ["submissions.tenant_id", "submissions.id"]),
        CheckConstraint(one_of("purpose", FILE_PURPOSES), name="purpose_valid"),
        CheckConstraint(one_of("status", FILE_STATUSES), name="status_valid"),
        CheckConstraint("declared_bytes > 0", name="declared_bytes_positive"),
        CheckConstraint(
            "(purpose = 'lesson') = (lesson_id IS NOT NULL) AND (purpose = 'submission') = (assessment_id IS NOT NULL)",
            name="owner_matches_purpose",
        ),
        # A lesson's content is its one ready lesson file.
        Index(
            None,
            "tenant_id",
            "lesson_id",
            unique=True,
            postgresql_where=text("purpose = 'lesson' AND status = 'ready'"),
        ),
        Index(None, "tenant_id", "submission_id"),
        Index(None, "tenant_id", "assessment_id", "uploaded_by"),
    )

    purpose: Mapped[str] = mapped_column(String(20))
    object_key: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(100))
    declared_bytes: Mapped[int] = mapped_column(BigInteger)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), server_default=text("'pending'"))
    lesson_id: Mapped[uuid.UUID | None]
    assessment_id: Mapped[uuid.UUID | None]
    submission_id: Mapped[uuid.UUID | None]
    uploaded_by: Mapped[uuid.UUID]
    upload_expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()


class LessonMedia(TenantOwned, Base):
    """What the video pipeline made of a lesson's video file (its id is the file's)."""

    __tablename__ = "lesson_media"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "id"], ["stored_files.tenant_id", "stored_files.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "lesson_id"], ["lessons.tenant_id", "lessons.id"], ondelete="CASCADE"),
        CheckConstraint(one_of("status", MEDIA_STATUSES), name="status_valid"),
        Index(None, "tenant_id", "lesson_id"),
    )

    lesson_id: Mapped[uuid.UUID]
    status: Mapped[str] = mapped_column(String(20), server_default=text("'processing'"))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    error: Mapped[str | None] = mapped_column(Text)
    duration_seconds: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))
    width: Mapped[int | None]
    height: Mapped[int | None]
    renditions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    playlist_key: Mapped[str | None] = mapped_column(Text)
    thumbnail_key: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
