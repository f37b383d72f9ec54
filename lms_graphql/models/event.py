from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKeyConstraint, Index, SmallInteger, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from lms_graphql.models.base import Base, TenantOwned, created_at_column


class DomainEvent(TenantOwned, Base):
    """The outbox: a domain event (seed envelope) written in the transaction of its change.

    ``id`` is the envelope's eventId; ``user_id`` the acting user; ``published_at`` is set by
    the relay once the event went out.
    """

    __tablename__ = "domain_events"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"]),
        Index(None, "tenant_id", "user_id", "occurred_at"),
        Index(None, "tenant_id", "occurred_at"),
        Index(None, "tenant_id", "course_id", "occurred_at"),
        # What the relay has still to publish: small, whatever the size of the outbox.
        Index(
            "ix_domain_events_tenant_id_unpublished",
            "tenant_id",
            "occurred_at",
            postgresql_where=text("published_at IS NULL"),
        ),
    )

    event_type: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[uuid.UUID | None]
    course_id: Mapped[uuid.UUID | None]
    occurred_at: Mapped[datetime] = created_at_column()
    version: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
