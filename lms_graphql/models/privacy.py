"""A person's data, exported on request (GDPR art. 15/20): the archive a job builds."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKeyConstraint, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from lms_graphql.models.base import Base, TenantOwned, created_at_column, one_of

EXPORT_STATUSES = ("pending", "ready", "failed")


class DataExport(TenantOwned, Base):
    """``user_id``: whose data; ``requested_by``: who asked (the person, or an admin)."""

    __tablename__ = "data_exports"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"]),
        CheckConstraint(one_of("status", EXPORT_STATUSES), name="status_valid"),
        CheckConstraint("status <> 'ready' OR object_key IS NOT NULL", name="ready_has_archive"),
        Index(None, "tenant_id", "user_id", "created_at"),
    )

    user_id: Mapped[uuid.UUID]
    requested_by: Mapped[uuid.UUID]
    status: Mapped[str] = mapped_column(String(20), server_default=text("'pending'"))
    object_key: Mapped[str | None] = mapped_column(Text)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
