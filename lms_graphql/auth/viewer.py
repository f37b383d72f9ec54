"""Loading the viewer once per request: the token names a user, the database decides."""

from __future__ import annotations

from lms_graphql.auth.tokens import TokenClaims
from lms_graphql.context import RequestTransaction, Services, Viewer
from lms_graphql.errors import ErrorCode
from lms_graphql.models.user import User
from lms_graphql.tenancy.resolution import Resolution, ResolutionError
from lms_graphql.users.repository import UserRepository


def _revoked() -> ResolutionError:
    return ResolutionError(ErrorCode.INVALID_TOKEN, "invalid or expired token")


def _check(user: User | None, claims: TokenClaims) -> User:
    # Deactivation, a password change and a role change bump token_version: older tokens die.
    if user is None or not user.is_active or user.token_version != claims.token_version:
        raise _revoked()
    return user


async def load_viewer(services: Services, resolution: Resolution, tx: RequestTransaction) -> Viewer | None:
    claims = resolution.claims
    if claims is None:
        return None
    if not resolution.cross_tenant:
        async with tx.use() as session:
            user = _check(await UserRepository(session, resolution.tenant.id).get(claims.user_id), claims)
        return Viewer(user=user, home_tenant_id=resolution.tenant.id)
    # A platform operator addressing another tenant: its user row lives in its home tenant.
    home = await services.registry.get(claims.tenant_slug)
    if home is None or not home.is_active or home.id != claims.tenant_id:
        raise _revoked()
    async with services.db.tenant_transaction(home.id) as session:
        user = _check(await UserRepository(session, home.id).get(claims.user_id), claims)
    if user.role != "super_admin":
        raise ResolutionError(ErrorCode.TENANT_MISMATCH, "the token belongs to another tenant")
    return Viewer(user=user, home_tenant_id=home.id, cross_tenant=True)
