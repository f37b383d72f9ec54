from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms_graphql.models.base import Base, TenantOwned, created_at_column


class Certificate(TenantOwned, Base):
    __tablename__ = "certificates"
    __table_args__ = (
        # Earned once per learner and course, whichever write completes the course.
        UniqueConstraint("tenant_id", "user_id", "course_id"),
        UniqueConstraint("tenant_id", "verification_code"),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"]),
        ForeignKeyConstraint(["tenant_id", "course_id"], ["courses.tenant_id", "courses.id"]),
    )

    user_id: Mapped[uuid.UUID]
    course_id: Mapped[uuid.UUID]
    verification_code: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = created_at_column()
