from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKeyConstraint, Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from lms_graphql.models.base import Base, TenantOwned, created_at_column


class Notification(TenantOwned, Base):
    __tablename__ = "notifications"
    __table_args__ = (
        # A domain event notifies a user at most once, however often it is delivered.
        UniqueConstraint("tenant_id", "user_id", "event_id"),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"]),
        Index(None, "tenant_id", "user_id", "created_at"),
        Index(None, "tenant_id", "event_id"),
    )

    user_id: Mapped[uuid.UUID]
    event_id: Mapped[uuid.UUID | None]
    event_type: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(255))
    body: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    created_at: Mapped[datetime] = created_at_column()
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
