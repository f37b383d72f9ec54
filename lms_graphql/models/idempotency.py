from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms_graphql.models.base import Base, TenantOwned, created_at_column, one_of


class IdempotencyKey(TenantOwned, Base):
    """A mutation request made with an Idempotency-Key, and the response it got."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id", "key"),
        CheckConstraint(one_of("state", ("running", "done")), name="state_valid"),
    )

    user_id: Mapped[uuid.UUID]
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    response_status: Mapped[int | None] = mapped_column(SmallInteger)
    # The answer as it was sent, byte for byte (a replay repeats it exactly).
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
