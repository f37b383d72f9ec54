"""Login and password changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql import models
from lms_graphql.auth.passwords import (
    MAX_PASSWORD_LENGTH,
    hash_password,
    needs_rehash,
    validate_password,
    verify_password_async,
)
from lms_graphql.auth.tokens import TokenService
from lms_graphql.auth.viewer import Viewer
from lms_graphql.errors import ErrorCode, LmsError, bad_input
from lms_graphql.kit.db import note_revoked
from lms_graphql.tenancy.tenant import TenantConfig
from lms_graphql.users.emails import MAX_EMAIL_LENGTH, canonical_email
from lms_graphql.users.repository import UserRepository

# One message for unknown email, wrong password and inactive account: no account probing.
LOGIN_FAILED = "invalid email or password"


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime
    user: models.User


def _issue(tokens: TokenService, tenant: TenantConfig, user: models.User) -> IssuedToken:
    token, expires_at = tokens.issue(
        user_id=user.id,
        tenant_id=tenant.id,
        tenant_slug=tenant.slug,
        role=user.role,
        token_version=user.token_version,
    )
    return IssuedToken(token, expires_at, user)


async def login(
    session: AsyncSession, tenant: TenantConfig, tokens: TokenService, *, email: str, password: str
) -> IssuedToken:
    users = UserRepository(session, tenant.id)
    # An over-long password can never be right (none is stored); it still costs one hash.
    too_long = len(password) > MAX_PASSWORD_LENGTH
    user = None if too_long else await _find_by_email(users, email)
    stored = user.password_hash if user is not None else None
    valid = await verify_password_async(stored, password[:MAX_PASSWORD_LENGTH])
    if user is None or not valid or not user.is_active:
        raise LmsError(ErrorCode.UNAUTHENTICATED, LOGIN_FAILED)
    if stored is not None and needs_rehash(stored):
        user.password_hash = await hash_password(password)
    user.last_login_at = datetime.now(UTC)
    await session.flush()
    return _issue(tokens, tenant, user)


async def _find_by_email(users: UserRepository, email: str) -> models.User | None:
    """The account stored under what was typed (addresses stored before they were NFKC
    normalised keep working), else under its canonical spelling: ADMIN@x.example in
    fullwidth letters signs in as admin@x.example."""
    typed = email.strip().lower()[:MAX_EMAIL_LENGTH]
    user = await users.find_by_email(typed)
    canonical = canonical_email(email)[:MAX_EMAIL_LENGTH]
    if user is None and canonical != typed:
        user = await users.find_by_email(canonical)
    return user


async def change_password(
    session: AsyncSession,
    tenant: TenantConfig,
    tokens: TokenService,
    viewer: Viewer,
    *,
    current_password: str,
    new_password: str,
) -> IssuedToken:
    if viewer.cross_tenant:
        raise LmsError(ErrorCode.FORBIDDEN, "change your password in your own tenant")
    user = await UserRepository(session, tenant.id).lock(viewer.id)
    if user is None:
        raise LmsError(ErrorCode.UNAUTHENTICATED, "sign in first: this needs a bearer token")
    if not await verify_password_async(user.password_hash, current_password[:MAX_PASSWORD_LENGTH]):
        raise bad_input("the current password is not correct")
    user.password_hash = await hash_password(validate_password(new_password))
    user.token_version += 1  # every token issued before now stops working
    note_revoked(session, user.id)
    await session.flush()
    return _issue(tokens, tenant, user)
