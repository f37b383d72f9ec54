"""GraphQL types of the tenant registry: a tenant as clients see it."""

from __future__ import annotations

import enum
from dataclasses import asdict
from typing import Any

import strawberry
from strawberry.scalars import JSON

from lms_graphql.context import Context
from lms_graphql.limits.plans import limits_for
from lms_graphql.storage.types import signed_url
from lms_graphql.tenancy.features import plan_features
from lms_graphql.tenancy.tenant import TenantConfig


@strawberry.type(description="An organisation's preferences; each null until an admin sets it.")
class TenantSettings:
    timezone: str | None = strawberry.field(description="An IANA time zone, like Europe/Paris.")
    locale: str | None = strawberry.field(description="A language tag, like en or pt-BR.")
    support_email: str | None = strawberry.field(description="Where the organisation's learners ask for help.")

    @classmethod
    def of(cls, config: TenantConfig) -> TenantSettings:
        preferences = config.settings.get("preferences") or {}
        return cls(
            timezone=preferences.get("timezone"),
            locale=preferences.get("locale"),
            support_email=preferences.get("supportEmail"),
        )


@strawberry.type(description="The limits a tenant's requests run under (README: Limits).")
class TenantLimits:
    max_depth: int = strawberry.field(description="Deepest selection nesting an operation may have.")
    max_aliases: int = strawberry.field(description="Most aliases in one operation.")
    max_tokens: int = strawberry.field(description="Most lexical tokens in one document.")
    max_cost: int = strawberry.field(description="Highest estimated cost of one operation.")
    tenant_cost_per_minute: int = strawberry.field(description="Cost the whole tenant may spend per minute.")
    user_cost_per_minute: int = strawberry.field(description="Cost one user may spend per minute.")
    statement_timeout_ms: int = strawberry.field(description="Longest an SQL statement of a request may run.")
    concurrent_transactions: int = strawberry.field(
        description="Database transactions the tenant may hold at once, per server process."
    )


@strawberry.enum(description="Where a tenant's rows live.")
class TenantPlacement(enum.Enum):
    POOL = strawberry.enum_value("pool", description="The shared tables, row-level security separating tenants.")
    BRIDGE = strawberry.enum_value("bridge", description="A PostgreSQL schema of its own, the same tables in it.")
    SILO = strawberry.enum_value("silo", description="A database of its own, possibly on another server.")


@strawberry.type(description="An organisation on the platform, with its own users, courses and data.")
class Tenant:
    id: strawberry.ID = strawberry.field(description="Opaque id of the tenant.")
    slug: str = strawberry.field(
        description="The tenant's subdomain, and what X-Tenant-ID names: 2-63 lowercase letters, digits and hyphens."
    )
    name: str = strawberry.field(description="The organisation's display name.")
    plan: str = strawberry.field(
        description="The plan, free, pro or enterprise: it sets the tenant's limits (depth, cost, rate, statement "
        "timeout)."
    )
    features: list[str] = strawberry.field(description="Names of the feature flags enabled for the tenant.")
    is_active: bool = strawberry.field(
        description="False once a platform operator deactivated the tenant: its requests then answer TENANT_NOT_FOUND."
    )
    region: str = strawberry.field(description="Where the tenant is hosted: eu-west-1, us-east-1 or ap-southeast-1.")
    max_users: int = strawberry.field(
        description="The most active users the tenant may have; beyond it creating or reactivating a user answers "
        "TENANT_USER_LIMIT."
    )
    branding: JSON = strawberry.field(
        description="For the tenant's pages, a JSON object: primaryColor and accentColor (#rrggbb) and logoUrl (a "
        "signed link, valid an hour), each only when set."
    )
    settings: TenantSettings = strawberry.field(description="The organisation's preferences, set by its admins.")
    available_features: list[str] = strawberry.field(
        description="The features the plan includes: admins may enable these (configureTenant); features lists "
        "those enabled."
    )
    limits: TenantLimits = strawberry.field(
        description="The limits in force: the plan's, with the operator's overrides."
    )

    @classmethod
    def from_config(cls, config: TenantConfig, ctx: Context | None = None) -> Tenant:
        return cls(
            id=strawberry.ID(str(config.id)),
            slug=config.slug,
            name=config.name,
            plan=config.plan,
            features=list(config.features),
            is_active=config.is_active,
            region=config.region,
            max_users=config.max_users,
            branding=JSON(_branding(config, ctx)),
            settings=TenantSettings.of(config),
            available_features=list(plan_features(config.plan)),
            limits=TenantLimits(**asdict(limits_for(config))),
        )


def _branding(config: TenantConfig, ctx: Context | None) -> dict[str, Any]:
    stored = dict(config.settings.get("branding") or {})
    logo = stored.pop("logo", None)
    if logo and ctx is not None:
        stored["logoUrl"] = signed_url(ctx, logo)
    return stored
