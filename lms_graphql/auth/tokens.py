"""JWTs with the seed's claims: HS256 pinned, key ids for rotation, revocation by version."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cachetools import LRUCache

from lms_graphql.auth.permissions import permissions_of

ISSUER = "lms-platform"
ALGORITHM = "HS256"
TOKEN_LIFETIME = timedelta(hours=8)
LEEWAY = timedelta(seconds=10)
REQUIRED_CLAIMS = ("exp", "iat", "sub", "iss", "aud")
# Tokens whose signature and claims were checked, by their exact text: a client sends the same
# token with every request, and checking it again (PyJWT, ~70 us) changes nothing but the expiry,
# which is compared again on every use. Revocation is the database's (token_version).
VERIFIED_TOKENS = 4_096


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
    # Not checked by decode(): the tenant resolver compares it with the slug the registry
    # has for tenant_id.
    audience: str


class TokenService:
    def __init__(self, keys: tuple[tuple[str, str], ...]) -> None:
        if not keys:
            raise ValueError("at least one signing key is required")
        self._signing_kid, self._signing_key = keys[0]
        self._keys = dict(keys)
        self._verified: LRUCache[str, TokenClaims] = LRUCache(maxsize=VERIFIED_TOKENS)

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
        """Signature, issuer, expiry, issue time, lifetime and the claims' types. The audience
        is the tenant resolver's to check: only the registry knows the token's tenant's slug."""
        claims = self._verified.get(token)
        if claims is not None and datetime.now(UTC) < claims.expires_at + LEEWAY:
            return claims
        claims = self._verify(token)
        self._verified[token] = claims
        return claims

    def _verify(self, token: str) -> TokenClaims:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(f"malformed token: {exc}") from None
        kid = header.get("kid")
        key = self._keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidTokenError(f"unknown key id {kid!r}")
        try:
            payload = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                leeway=LEEWAY,
                options={"require": list(REQUIRED_CLAIMS), "verify_aud": False},
            )
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(str(exc)) from None
        lifetime = _numeric_date(payload, "exp") - _numeric_date(payload, "iat")
        if lifetime > (TOKEN_LIFETIME + LEEWAY).total_seconds():
            raise InvalidTokenError(f"lifetime of {lifetime:.0f} s exceeds the {TOKEN_LIFETIME} tokens are issued for")
        return TokenClaims(
            user_id=_uuid(payload, "sub"),
            tenant_id=_uuid(payload, "tenantId"),
            tenant_slug=_string(payload, "tenantSlug"),
            role=_string(payload, "role"),
            token_version=_integer(payload, "tv"),
            expires_at=datetime.fromtimestamp(_numeric_date(payload, "exp"), UTC),
            audience=_string(payload, "aud"),
        )


def _string(payload: dict[str, Any], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str):
        raise InvalidTokenError(f"claim {name!r} must be a string")
    return value


def _uuid(payload: dict[str, Any], name: str) -> uuid.UUID:
    try:
        return uuid.UUID(_string(payload, name))
    except ValueError:
        raise InvalidTokenError(f"claim {name!r} must be a UUID") from None


def _integer(payload: dict[str, Any], name: str) -> int:
    value = payload.get(name)
    if type(value) is not int:  # not a bool, a float or a numeric string either
        raise InvalidTokenError(f"claim {name!r} must be an integer")
    return value


def _numeric_date(payload: dict[str, Any], name: str) -> float:
    value = payload.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidTokenError(f"claim {name!r} must be a number")
    return float(value)
