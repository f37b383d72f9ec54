"""Creating users: input rules, the tenant's seat limit, password hashing."""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql import models
from lms_graphql.auth.passwords import hash_password, validate_password
from lms_graphql.errors import ErrorCode, LmsError, bad_input, not_found
from lms_graphql.models.user import ROLES
from lms_graphql.tenancy.config import TenantConfig, validate_name
from lms_graphql.tenancy.repository import TenantRepository
from lms_graphql.users.repository import UserRepository

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_email(email: str) -> str:
    cleaned = email.strip().lower()
    if len(cleaned) > 255 or not _EMAIL.match(cleaned):
        raise bad_input(f"invalid email address {email!r}")
    return cleaned


def validate_role(role: str) -> str:
    if role not in ROLES:
        raise bad_input(f"invalid role {role!r}: one of {', '.join(ROLES)}")
    return role


async def create_user(
    session: AsyncSession,
    tenant: TenantConfig,
    *,
    email: str,
    full_name: str,
    role: str,
    password: str,
) -> models.User:
    """Create a user in ``tenant``; ``session`` must be bound to that tenant."""
    email = normalize_email(email)
    full_name = validate_name(full_name, what="full name")
    role = validate_role(role)
    password_hash = await hash_password(validate_password(password))

    # The tenant row lock serialises concurrent creations, so the seat count cannot overshoot.
    locked = await TenantRepository(session).lock_for_update(tenant.id)
    if locked is None:
        raise not_found(f"tenant {tenant.slug!r} not found")
    users = UserRepository(session, tenant.id)
    if await users.count_active() >= locked.max_users:
        raise LmsError(
            ErrorCode.TENANT_USER_LIMIT,
            f"tenant {tenant.slug!r} has reached its limit of {locked.max_users} users",
        )
    return await users.create(email=email, full_name=full_name, role=role, password_hash=password_hash)
