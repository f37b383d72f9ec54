"""Creating users: input rules, the tenant's seat limit, password hashing."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql import models
from lms_graphql.auth import policies
from lms_graphql.auth.passwords import hash_password, validate_password
from lms_graphql.auth.viewer import Viewer
from lms_graphql.errors import ErrorCode, LmsError, bad_input, not_found
from lms_graphql.kit.db import note_revoked
from lms_graphql.models.user import ROLES
from lms_graphql.tenancy.repository import TenantRepository
from lms_graphql.tenancy.tenant import TenantConfig, validate_name
from lms_graphql.users.emails import normalize_email
from lms_graphql.users.repository import UserRepository


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
    users = UserRepository(session, tenant.id)
    await _ensure_seat(session, tenant, users)
    return await users.create(email=email, full_name=full_name, role=role, password_hash=password_hash)


async def _ensure_seat(session: AsyncSession, tenant: TenantConfig, users: UserRepository) -> None:
    # The tenant row lock serialises concurrent creations, so the seat count cannot overshoot.
    locked = await TenantRepository(session).lock_for_update(tenant.id)
    if locked is None:
        raise not_found(f"tenant {tenant.slug!r} not found")
    if await users.count_active() >= locked.max_users:
        raise LmsError(
            ErrorCode.TENANT_USER_LIMIT,
            f"tenant {tenant.slug!r} has reached its limit of {locked.max_users} users",
        )


def _check_may_assign(viewer: Viewer, role: str) -> None:
    if role == "super_admin" and not policies.may_manage_tenants(viewer):
        raise LmsError(ErrorCode.FORBIDDEN, "only a platform operator may grant super_admin")


async def create_user_as(
    session: AsyncSession,
    tenant: TenantConfig,
    viewer: Viewer,
    *,
    email: str,
    full_name: str,
    role: str,
    password: str,
) -> models.User:
    """An admin (or operator) creating a user through the API."""
    _check_may_assign(viewer, validate_role(role))
    return await create_user(session, tenant, email=email, full_name=full_name, role=role, password=password)


async def update_user(
    session: AsyncSession,
    tenant: TenantConfig,
    viewer: Viewer,
    user_id: uuid.UUID,
    *,
    full_name: str | None = None,
    role: str | None = None,
    is_active: bool | None = None,
) -> models.User:
    users = UserRepository(session, tenant.id)
    user = await users.lock(user_id)
    if user is None:
        raise not_found("user not found")
    if user.erased_at is not None:
        raise LmsError(ErrorCode.FORBIDDEN, "this user's data was erased: the account cannot be changed or reactivated")
    if user.id == viewer.id and (role not in (None, user.role) or is_active is False):
        raise LmsError(ErrorCode.FORBIDDEN, "you cannot change your own role or deactivate yourself")
    if user.role == "super_admin" and not policies.may_manage_tenants(viewer):
        raise LmsError(ErrorCode.FORBIDDEN, "only a platform operator may change a super_admin")
    revoke = False
    if full_name is not None:
        user.full_name = validate_name(full_name, what="full name")
    if role is not None and role != user.role:
        _check_may_assign(viewer, validate_role(role))
        user.role = role
        revoke = True
    if is_active is not None and is_active != user.is_active:
        if is_active:
            await _ensure_seat(session, tenant, users)
        user.is_active = is_active
        revoke = True
    if revoke:
        user.token_version += 1  # the user's tokens no longer carry what the database says
        note_revoked(session, user.id)
    await session.flush()
    return user
