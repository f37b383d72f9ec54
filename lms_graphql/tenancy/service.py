"""Registering tenants (platform operators)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql.tenancy.config import TenantConfig, validate_name, validate_plan, validate_slug
from lms_graphql.tenancy.repository import TenantRepository


async def create_tenant(
    session: AsyncSession, *, slug: str, name: str, plan: str = "free", max_users: int | None = None
) -> TenantConfig:
    slug = validate_slug(slug)
    name = validate_name(name, what="tenant name")
    plan = validate_plan(plan)
    row = await TenantRepository(session).create(slug=slug, name=name, plan=plan, max_users=max_users)
    return TenantConfig.from_row(row)


async def find_tenant(session: AsyncSession, slug: str) -> TenantConfig | None:
    row = await TenantRepository(session).find_by_slug(slug)
    return TenantConfig.from_row(row) if row is not None else None
