from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from lms_graphql.models.base import Base, TenantOwned, created_at_column


class AuditEntry(TenantOwned, Base):
    """A mutation, or an operator's action on a tenant: who, what (variables with secrets
    redacted, in ``details``), with what outcome, when.

    ``tenant_id`` is the tenant acted in; the actor's tenant and user are recorded as plain
    ids (an operator's live in another tenant: a foreign key there is what tenant keys forbid).
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "tenant_id", "occurred_at"),)

    actor_tenant_id: Mapped[uuid.UUID]
    actor_user_id: Mapped[uuid.UUID | None]  # None: anonymous (a failed sign-in)
    action: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    occurred_at: Mapped[datetime] = created_at_column()
