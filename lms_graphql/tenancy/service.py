"""Registering tenants (platform operators)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql.audit import service as audit
from lms_graphql.auth.viewer import Viewer
from lms_graphql.errors import ErrorCode, LmsError, bad_input, not_found
from lms_graphql.kit.db import Database
from lms_graphql.kit.homes import MAIN_CLUSTER
from lms_graphql.tenancy.registry import TenantRegistry
from lms_graphql.tenancy.repository import TenantRepository
from lms_graphql.tenancy.tenant import TenantConfig, validate_name, validate_plan, validate_slug


async def create_tenant(
    session: AsyncSession,
    *,
    slug: str,
    name: str,
    plan: str = "free",
    max_users: int | None = None,
    tenant_id: uuid.UUID | None = None,
    placement: str = "pool",
    cluster: str = "main",
    region: str | None = None,
) -> TenantConfig:
    """Register a tenant; a bridge or silo tenant's home is made by placement/service.py."""
    slug = validate_slug(slug)
    name = validate_name(name, what="tenant name")
    plan = validate_plan(plan)
    if max_users is not None and not 1 <= max_users <= 10_000_000:
        raise bad_input("maxUsers must be between 1 and 10000000")
    row = await TenantRepository(session).create(
        slug=slug,
        name=name,
        plan=plan,
        max_users=max_users,
        tenant_id=tenant_id,
        placement=placement,
        cluster=cluster,
        region=region,
    )
    return TenantConfig.from_row(row)


async def announce_tenant(session: AsyncSession, slug: str) -> None:
    """Running servers forget what they knew of ``slug`` when this transaction commits."""
    await TenantRepository(session).announce(slug)


async def active_tenant_ids(session: AsyncSession) -> list[uuid.UUID]:
    """Every active tenant: what platform-wide work (the relay's sweep, periodic jobs) visits."""
    return await TenantRepository(session).active_ids()


async def placed_tenant_ids(session: AsyncSession) -> list[uuid.UUID]:
    """The active tenants in a bridge or silo home."""
    return await TenantRepository(session).active_ids(placed_only=True)


async def find_tenant(session: AsyncSession, slug: str) -> TenantConfig | None:
    row = await TenantRepository(session).find_by_slug(slug)
    return TenantConfig.from_row(row) if row is not None else None


async def set_tenant_active(session: AsyncSession, tenant_id: uuid.UUID, active: bool) -> TenantConfig | None:
    """Activate or deactivate; running servers hear of it when the transaction commits."""
    repository = TenantRepository(session)
    row = await repository.set_active(tenant_id, active)
    if row is None:
        return None
    await repository.announce(row.slug, deactivated=None if active else tenant_id)
    return TenantConfig.from_row(row)


async def set_tenant_setting(session: AsyncSession, tenant_id: uuid.UUID, name: str, value: object) -> TenantConfig:
    """Running servers hear of the change when the transaction commits."""
    repository = TenantRepository(session)
    row = await repository.set_setting(tenant_id, name, value)
    if row is None:
        raise not_found("tenant not found")
    await repository.announce(row.slug)
    return TenantConfig.from_row(row)


async def create_tenant_as_operator(
    db: Database, registry: TenantRegistry, viewer: Viewer, *, slug: str, name: str, plan: str, max_users: int | None
) -> TenantConfig:
    """Register a tenant; the action is recorded in the new tenant's audit log, atomically."""
    tenant_id = uuid.uuid4()
    async with db.tenant_transaction(tenant_id) as session:
        region = db.clusters[MAIN_CLUSTER].region  # pooled: where the main server is
        tenant = await create_tenant(
            session, slug=slug, name=name, plan=plan, max_users=max_users, tenant_id=tenant_id, region=region
        )
        await audit.record(session, tenant_id, viewer, "tenant.create", {"slug": tenant.slug, "plan": plan})
        await TenantRepository(session).announce(tenant.slug)
    registry.invalidate(tenant.slug)  # here at once; other processes on the NOTIFY
    return tenant


async def set_tenant_active_as_operator(
    db: Database, registry: TenantRegistry, viewer: Viewer, tenant_id: uuid.UUID, active: bool
) -> TenantConfig:
    if tenant_id == viewer.home_tenant_id and not active:
        raise LmsError(ErrorCode.FORBIDDEN, "you cannot deactivate your own tenant")
    action = "tenant.activate" if active else "tenant.deactivate"
    if (await db.homes.home_of(tenant_id)).placement == "pool":
        # The registry is the pool's own table: the change and its audit entry commit together.
        async with db.tenant_transaction(tenant_id) as session:
            tenant = await set_tenant_active(session, tenant_id, active)
            if tenant is None:
                raise not_found("tenant not found")
            await audit.record(session, tenant_id, viewer, action, {"slug": tenant.slug})
    else:
        async with db.platform_transaction() as session:
            tenant = await set_tenant_active(session, tenant_id, active)
        if tenant is None:
            raise not_found("tenant not found")
        async with db.tenant_transaction(tenant_id) as session:
            await copy_registry_row(db, session, tenant_id)
            await audit.record(session, tenant_id, viewer, action, {"slug": tenant.slug})
    registry.invalidate(tenant.slug)  # here at once; other processes on the NOTIFY
    return tenant


async def copy_registry_row(db: Database, home_session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """Bring a bridge or silo home's copy of the tenant's registry row (``home_session``: a
    transaction in that home) in step with the registry."""
    async with db.platform_transaction() as session:
        row = await TenantRepository(session).find_by_id(tenant_id)
    if row is not None:
        values = {column.key: getattr(row, column.key) for column in row.__mapper__.column_attrs}
        await TenantRepository(home_session).save_copy(values)
