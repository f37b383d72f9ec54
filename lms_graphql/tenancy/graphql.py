from __future__ import annotations

from typing import Annotated

import strawberry

from lms_graphql.auth.permissions import Permission
from lms_graphql.context import Context, Info
from lms_graphql.kit.graphql import require_id
from lms_graphql.placement import service as placement_service
from lms_graphql.tenancy import service
from lms_graphql.tenancy.types import Tenant, TenantPlacement

__all__ = ["Tenant", "TenantMutations", "TenantPlacement", "TenantQueries"]


@strawberry.input(description="A new tenant.")
class CreateTenantInput:
    slug: str = strawberry.field(
        description="Its subdomain: 2-63 lowercase letters, digits and hyphens, starting and ending with a letter or "
        "digit; www, api, admin and status are reserved. Unique on the platform."
    )
    name: str = strawberry.field(description="The display name, 1-255 characters after trimming.")
    plan: str | None = strawberry.field(default="free", description="The plan: free, pro or enterprise; null: free.")
    max_users: int | None = strawberry.field(
        default=None, description="The most active users allowed, 1-10 000 000; null: the default, 100."
    )
    placement: TenantPlacement | None = strawberry.field(
        default=TenantPlacement.POOL,
        description="Where its data lives; null: the pool. A bridge's schema or a silo's database is made and "
        "migrated before the mutation answers.",
    )
    cluster: str | None = strawberry.field(
        default=None, description="The database server of a bridge or silo tenant (LMS_CLUSTERS); null: main."
    )
    region: str | None = strawberry.field(
        default=None,
        description="Where its data must stay: eu-west-1, us-east-1 or ap-southeast-1; null: the cluster's. A "
        "cluster of another region is refused.",
    )


@strawberry.type
class TenantQueries:
    @strawberry.field(
        description="The tenant this request resolved to (subdomain, X-Tenant-ID or the token's tenant). Needs no "
        "token."
    )
    def tenant(self, info: Info) -> Tenant:
        return Tenant.from_config(info.context.tenant, info.context)


@strawberry.type
class TenantMutations:
    @strawberry.mutation(
        description="Platform operators (SUPER_ADMIN) register a tenant; it is recorded in the new tenant's audit "
        "log. Errors: UNAUTHENTICATED without a token; FORBIDDEN for other roles; BAD_USER_INPUT for an invalid or "
        "reserved slug, an empty name, an unknown plan or maxUsers out of range; CONFLICT when the slug is taken."
    )
    async def create_tenant(
        self, info: Info, input: Annotated[CreateTenantInput, strawberry.argument(description="The new tenant.")]
    ) -> Tenant:
        ctx = info.context
        viewer = ctx.require(Permission.TENANT_MANAGE)
        placement = str((input.placement or TenantPlacement.POOL).value)
        if placement == "pool" and input.cluster is None and input.region is None:
            tenant = await service.create_tenant_as_operator(
                ctx.services.db,
                ctx.services.registry,
                viewer,
                slug=input.slug,
                name=input.name,
                plan=input.plan or "free",
                max_users=input.max_users,
            )
        else:
            tenant = await placement_service.create_placed_tenant_as_operator(
                ctx.services.db,
                viewer,
                slug=input.slug,
                name=input.name,
                plan=input.plan or "free",
                max_users=input.max_users,
                placement=placement,
                cluster=input.cluster,
                region=input.region,
                app_role=ctx.services.settings.app_role,
            )
        return Tenant.from_config(tenant, ctx)

    @strawberry.mutation(
        description="Platform operators (SUPER_ADMIN) deactivate a tenant: its requests answer 404 "
        "(TENANT_NOT_FOUND) and its open websockets close, on every server at once. Errors: UNAUTHENTICATED without "
        "a token; FORBIDDEN for other roles and for the operator's own tenant; NOT_FOUND for an unknown id."
    )
    async def deactivate_tenant(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The tenant's id.")]
    ) -> Tenant:
        return await _set_active(info.context, id, False)

    @strawberry.mutation(
        description="Platform operators (SUPER_ADMIN) reactivate a tenant. Errors: UNAUTHENTICATED without a token; "
        "FORBIDDEN for other roles; NOT_FOUND for an unknown id."
    )
    async def activate_tenant(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The tenant's id.")]
    ) -> Tenant:
        return await _set_active(info.context, id, True)


async def _set_active(ctx: Context, id: strawberry.ID, active: bool) -> Tenant:
    viewer = ctx.require(Permission.TENANT_MANAGE)
    tenant_id = require_id(id, "tenant")
    tenant = await service.set_tenant_active_as_operator(
        ctx.services.db, ctx.services.registry, viewer, tenant_id, active
    )
    return Tenant.from_config(tenant, ctx)
