from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from lms_graphql.auth.permissions import Permission
from lms_graphql.context import Context, Info
from lms_graphql.kit.graphql import require_id
from lms_graphql.tenancy import service
from lms_graphql.tenancy.tenant import TenantConfig


@strawberry.type
class Tenant:
    id: strawberry.ID
    slug: str
    name: str
    plan: str
    features: list[str]
    is_active: bool
    region: str
    max_users: int
    branding: JSON = strawberry.field(description="Logo, colours and the like, for the tenant's pages.")

    @classmethod
    def from_config(cls, config: TenantConfig) -> Tenant:
        return cls(
            id=strawberry.ID(str(config.id)),
            slug=config.slug,
            name=config.name,
            plan=config.plan,
            features=list(config.features),
            is_active=config.is_active,
            region=config.region,
            max_users=config.max_users,
            branding=config.settings.get("branding", {}),
        )


@strawberry.input
class CreateTenantInput:
    slug: str
    name: str
    plan: str | None = "free"
    max_users: int | None = None


@strawberry.type
class TenantQueries:
    @strawberry.field(description="The tenant this request resolved to.")
    def tenant(self, info: Info) -> Tenant:
        return Tenant.from_config(info.context.tenant)


@strawberry.type
class TenantMutations:
    @strawberry.mutation(description="Platform operators register tenants.")
    async def create_tenant(self, info: Info, input: CreateTenantInput) -> Tenant:
        ctx = info.context
        viewer = ctx.require(Permission.TENANT_MANAGE)
        tenant = await service.create_tenant_as_operator(
            ctx.services.db,
            ctx.services.registry,
            viewer,
            slug=input.slug,
            name=input.name,
            plan=input.plan or "free",
            max_users=input.max_users,
        )
        return Tenant.from_config(tenant)

    @strawberry.mutation(description="Platform operators deactivate a tenant: its requests answer 404.")
    async def deactivate_tenant(self, info: Info, id: strawberry.ID) -> Tenant:
        return await _set_active(info.context, id, False)

    @strawberry.mutation(description="Platform operators reactivate a tenant.")
    async def activate_tenant(self, info: Info, id: strawberry.ID) -> Tenant:
        return await _set_active(info.context, id, True)


async def _set_active(ctx: Context, id: strawberry.ID, active: bool) -> Tenant:
    viewer = ctx.require(Permission.TENANT_MANAGE)
    tenant_id = require_id(id, "tenant")
    tenant = await service.set_tenant_active_as_operator(
        ctx.services.db, ctx.services.registry, viewer, tenant_id, active
    )
    return Tenant.from_config(tenant)
