"""JWTs with the seed's claims: HS256 pinned, key ids for rotation, revocation by version."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from lms_graphql.auth.permissions import permissions_of

ISSUER = "lms-platform"
ALGORITHM = "HS256"
TOKEN_LIFETIME = timedelta(hours=8)
LEEWAY = timedelta(seconds=10)
REQUIRED_CLAIMS = ("exp", "iat", "sub", "iss", "aud")


class InvalidTokenError(Exception):
    """The token cannot be trusted; the message says why (for logs, not for clients)."""


@dataclass(frozen=True)
class TokenClaims:
    user_id: uuid.UUID
    tenant_id: uuid.UUID
    tenant_slug: str
    role: str
    token_version: int
    expires_at: datetime


class TokenService:
    def __init__(self, keys: tuple[tuple[str, str], ...]) -> None:
        if not keys:
            raise ValueError("at least one signing key is required")
        self._signing_kid, self._signing_key = keys[0]
        self._keys = dict(keys)

    def issue(
        self,
        *,
        user_id: uuid.UUID,
        tenant_id: uuid.UUID,
        tenant_slug: str,
        role: str,
        token_version: int,
        now: datetime | None = None,
    ) -> tuple[str, datetime]:
        issued = (now or datetime.now(UTC)).replace(microsecond=0)
        expires = issued + TOKEN_LIFETIME
        payload: dict[str, Any] = {
            "sub": str(user_id),
            "tenantId": str(tenant_id),
            "tenantSlug": tenant_slug,
            "role": role,
            "permissions": sorted(permissions_of(role)),
            "tv": token_version,
            "iat": issued,
            "exp": expires,
            "iss": ISSUER,
            "aud": tenant_slug,
        }
        headers = {"kid": self._signing_kid}
        token = jwt.encode(payload, self._signing_key, algorithm=ALGORITHM, headers=headers)
        return token, expires

    def decode(self, token: str) -> TokenClaims:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(f"malformed token: {exc}") from None
        kid = header.get("kid")
        key = self._keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidTokenError(f"unknown key id {kid!r}")
        try:
            # The audience is the token's own tenant; the caller compares that tenant with
            # the one the request resolved to.
            unverified = jwt.decode(token, options={"verify_signature": False})
            audience = unverified.get("tenantSlug")
            payload = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=audience if isinstance(audience, str) else "\x00",
                issuer=ISSUER,
                leeway=LEEWAY,
                options={"require": list(REQUIRED_CLAIMS), "strict_aud": True},
            )
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(str(exc)) from None
        try:
            return TokenClaims(
                user_id=uuid.UUID(payload["sub"]),
                tenant_id=uuid.UUID(payload["tenantId"]),
                tenant_slug=str(payload["tenantSlug"]),
                role=str(payload["role"]),
                token_version=int(payload["tv"]),
                expires_at=datetime.fromtimestamp(payload["exp"], UTC),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise InvalidTokenError(f"missing or malformed claim: {exc}") from None
