"""Authorising each operation: the token names a user and a tenant, the database decides."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from lms_graphql.auth.tokens import LEEWAY, TokenClaims
from lms_graphql.auth.viewer import Viewer
from lms_graphql.context import Services
from lms_graphql.errors import ErrorCode
from lms_graphql.kit.transaction import RequestTransaction
from lms_graphql.tenancy.resolution import Resolution, ResolutionError
from lms_graphql.users.repository import UserRepository


class TokenExpired(ResolutionError):
    def __init__(self) -> None:
        super().__init__(ErrorCode.INVALID_TOKEN, "the token has expired: sign in again")


def _revoked() -> ResolutionError:
    return ResolutionError(ErrorCode.INVALID_TOKEN, "invalid or expired token")


def _check(user: Any, claims: TokenClaims) -> Any:
    # Deactivation, a password change and a role change bump token_version: older tokens die.
    if user is None or not user.is_active or user.token_version != claims.token_version:
        raise _revoked()
    return user


async def load_viewer(services: Services, resolution: Resolution, tx: RequestTransaction) -> Viewer | None:
    """The viewer as the database says now, checked against the token; ResolutionError when the
    token no longer holds (user deactivated, role or password changed, token expired)."""
    claims = resolution.claims
    if claims is None:
        return None
    if claims.expires_at + LEEWAY <= datetime.now(UTC):  # as lenient as decoding it was
        raise TokenExpired
    if not resolution.cross_tenant:
        async with tx.use() as session:
            user = _check(await UserRepository(session, resolution.tenant.id).viewer_row(claims.user_id), claims)
        return Viewer(user=user, home_tenant_id=resolution.tenant.id)
    # A platform operator addressing another tenant: its user row lives in its home tenant,
    # which the resolver matched with the token's audience and tenantId.
    home = resolution.home_tenant
    if home is None:
        raise _revoked()
    async with services.db.tenant_transaction(home.id) as session:
        user = _check(await UserRepository(session, home.id).viewer_row(claims.user_id), claims)
    if user.role != "super_admin":
        raise ResolutionError(ErrorCode.TENANT_MISMATCH, "the token belongs to another tenant")
    return Viewer(user=user, home_tenant_id=home.id, cross_tenant=True)


async def current_tenant(services: Services, resolution: Resolution) -> Resolution:
    """For a long-lived connection: the resolution again, with the tenant as the registry says
    now (a deactivated tenant ends the connection's operations)."""
    tenant = await services.registry.get(resolution.tenant.slug)
    if tenant is None or not tenant.is_active or tenant.id != resolution.tenant.id:
        raise ResolutionError(ErrorCode.TENANT_NOT_FOUND, f"tenant {resolution.tenant.slug!r} not found or inactive")
    home = resolution.home_tenant
    if resolution.cross_tenant and home is not None:
        # A platform operator's own tenant must still be active too.
        now = await services.registry.get(home.slug)
        if now is None or not now.is_active or now.id != home.id:
            raise _revoked()
        home = now
    return replace(resolution, tenant=tenant, home_tenant=home)
