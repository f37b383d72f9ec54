from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from lms_graphql.models.base import Base, TenantOwned, created_at_column


class AuditEntry(TenantOwned, Base):
    """An action a platform operator took inside a tenant other than its own.

    ``tenant_id`` is the tenant acted in; the actor's tenant and user are recorded as plain
    ids: a foreign key into another tenant's rows is exactly what tenant keys forbid.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "tenant_id", "occurred_at"),)

    actor_tenant_id: Mapped[uuid.UUID]
    actor_user_id: Mapped[uuid.UUID]
    action: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    occurred_at: Mapped[datetime] = created_at_column()
