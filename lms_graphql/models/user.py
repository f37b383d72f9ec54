from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from lms_graphql.models.base import Base, TenantOwned, created_at_column, one_of, updated_at_column

ROLES = ("student", "instructor", "admin", "super_admin")


class User(TenantOwned, Base):
    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("tenant_id", "email"),
        CheckConstraint("email = lower(email) AND position('@' in email) > 1", name="email_normalized"),
        CheckConstraint("length(btrim(full_name)) > 0", name="full_name_not_blank"),
        CheckConstraint(one_of("role", ROLES), name="role_valid"),
        CheckConstraint("token_version >= 0", name="token_version_nonnegative"),
    )

    email: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), server_default="student")
    avatar_url: Mapped[str | None] = mapped_column(Text)
    # NULL: the user cannot log in with a password.
    password_hash: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(server_default=text("true"))
    # Bumped on password change, deactivation and role change: older tokens stop working.
    token_version: Mapped[int] = mapped_column(server_default=text("0"))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set when an admin erased the person's data (privacy/erasure.py): the row stays, anonymous.
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
