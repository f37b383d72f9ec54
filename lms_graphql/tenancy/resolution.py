"""Every request bound to exactly one tenant before any resolver runs (seed, contract).

Order: subdomain of Host under LMS_BASE_DOMAIN -> X-Tenant-ID -> the bearer token's tenant.
A token, when present, must be valid and belong to the resolved tenant; only a platform
operator's token may address another tenant, and only explicitly (subdomain or header).
A token's audience is its home tenant's slug as the registry has it for the token's
tenantId, whatever else the token says.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import ClassVar, Literal

from starlette.datastructures import Headers

from lms_graphql.auth.tokens import InvalidTokenError, TokenClaims, TokenService
from lms_graphql.errors import ErrorCode
from lms_graphql.models.tenant import RESERVED_SLUGS
from lms_graphql.tenancy.registry import TenantRegistry
from lms_graphql.tenancy.tenant import TenantConfig, is_valid_slug

log = logging.getLogger("lms_graphql.tenancy")

Source = Literal["subdomain", "path", "header", "token"]


@dataclass(frozen=True)
class Resolution:
    tenant: TenantConfig
    claims: TokenClaims | None
    source: Source
    # A super_admin token used in a tenant other than its own; the database confirms the
    # role when the user row is loaded.
    cross_tenant: bool = False
    # The token's own tenant, its audience verified: the resolved tenant unless cross_tenant.
    home_tenant: TenantConfig | None = None


class ResolutionError(Exception):
    STATUS: ClassVar[dict[ErrorCode, int]] = {
        ErrorCode.TENANT_NOT_RESOLVED: 400,
        ErrorCode.INVALID_TOKEN: 401,
        ErrorCode.TENANT_MISMATCH: 403,
        ErrorCode.TENANT_NOT_FOUND: 404,
    }
    # Websocket close codes in the 4000 range mirroring the HTTP statuses.
    CLOSE_CODE: ClassVar[dict[int, int]] = {400: 4400, 401: 4401, 403: 4403, 404: 4404}

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = self.STATUS[code]


def subdomain_slug(host: str, base_domain: str) -> str | None:
    """``mit`` for ``mit.localhost:8000`` under ``localhost``; None for reserved or other hosts."""
    name = host.strip().lower()
    if name.startswith("["):  # an IPv6 literal has no subdomain
        return None
    name = name.rsplit(":", 1)[0] if ":" in name else name
    name = name.rstrip(".")
    suffix = "." + base_domain
    if not name.endswith(suffix):
        return None
    label = name[: -len(suffix)]
    if not label or "." in label or label in RESERVED_SLUGS:
        return None
    return label


def bearer_token(authorization: str | None) -> str | None:
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ResolutionError(ErrorCode.INVALID_TOKEN, "the Authorization header must be 'Bearer <token>'")
    return token.strip()


class TenantResolver:
    def __init__(self, registry: TenantRegistry, tokens: TokenService, base_domain: str) -> None:
        self.registry = registry
        self.tokens = tokens
        self.base_domain = base_domain

    async def resolve(self, headers: Headers, path_slug: str | None = None) -> Resolution:
        return await self.resolve_parts(
            host=headers.get("host", ""),
            tenant_header=headers.get("x-tenant-id"),
            authorization=headers.get("authorization"),
            path_slug=path_slug,
        )

    async def resolve_parts(
        self, *, host: str, tenant_header: str | None, authorization: str | None, path_slug: str | None = None
    ) -> Resolution:
        """The single resolution path: HTTP requests, and websockets at connection_init. The
        address names the tenant first (its subdomain, else a /tenants/{slug}/ path prefix where
        LMS_TENANT_PATH_PREFIX turns it on), then the X-Tenant-ID header, then the token."""
        claims = self._claims(authorization)
        slug: str | None
        source: Source
        if slug := subdomain_slug(host, self.base_domain):
            source = "subdomain"
        elif slug := (path_slug or "").lower():
            source = "path"
        elif slug := (tenant_header or "").strip().lower():
            source = "header"
        elif claims is not None:
            slug, source = claims.tenant_slug, "token"
        else:
            raise ResolutionError(
                ErrorCode.TENANT_NOT_RESOLVED,
                "no tenant in this request: use the tenant's subdomain, an X-Tenant-ID header or a token",
            )
        tenant = await self.registry.get(slug) if is_valid_slug(slug) else None
        if tenant is None or not tenant.is_active:
            raise ResolutionError(ErrorCode.TENANT_NOT_FOUND, f"tenant {slug[:63]!r} not found or inactive")
        if claims is None:
            return Resolution(tenant, None, source)
        home = await self._home_tenant(claims, tenant)
        cross_tenant = home.id != tenant.id
        if cross_tenant and (claims.role != "super_admin" or source == "token"):
            raise ResolutionError(ErrorCode.TENANT_MISMATCH, "the token belongs to another tenant")
        return Resolution(tenant, claims, source, cross_tenant, home)

    async def _home_tenant(self, claims: TokenClaims, resolved: TenantConfig) -> TenantConfig:
        """The tenant the token was issued in: the one whose registered slug is the token's
        audience, and whose id is its tenantId. Usually the resolved tenant itself."""
        if claims.audience == resolved.slug and claims.tenant_id == resolved.id:
            return resolved
        home = await self.registry.get(claims.audience) if is_valid_slug(claims.audience) else None
        if home is None or home.id != claims.tenant_id:
            log.info("refused token: audience %r is not the slug of tenant %s", claims.audience[:63], claims.tenant_id)
            raise ResolutionError(ErrorCode.INVALID_TOKEN, "invalid or expired token")
        if not home.is_active:
            log.info("refused token: its tenant %s is inactive", home.slug)
            raise ResolutionError(ErrorCode.INVALID_TOKEN, "invalid or expired token")
        return home

    def _claims(self, authorization: str | None) -> TokenClaims | None:
        token = bearer_token(authorization)
        if token is None:
            return None
        try:
            return self.tokens.decode(token)
        except InvalidTokenError as exc:
            log.info("refused token: %s", exc)
            raise ResolutionError(ErrorCode.INVALID_TOKEN, "invalid or expired token") from None
