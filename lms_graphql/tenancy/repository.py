"""SQL for the tenant registry."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql import models
from lms_graphql.kit import channels
from lms_graphql.kit.channels import pack
from lms_graphql.kit.homes import Home
from lms_graphql.kit.repository import insert_or_conflict
from lms_graphql.models.tenant import plan_features

# Columns of a home's copy of a registry row that are the home's own: never copied over.
HOME_OWNED_COLUMNS = frozenset({"id", "placement", "cluster", "frozen"})


def copy_upsert(values: dict[str, Any], home: Home) -> Insert:
    """The statement that writes ``home``'s copy of a registry row (``values``): on its first
    write naming the home, unfrozen; later writes leave HOME_OWNED_COLUMNS as they are."""
    row = {**values, "placement": home.placement, "cluster": home.cluster, "frozen": False}
    statement = insert(models.Tenant).values(**row)
    changed = {name: statement.excluded[name] for name in row if name not in HOME_OWNED_COLUMNS}
    return statement.on_conflict_do_update(index_elements=["id"], set_=changed)


class TenantRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find_by_slug(self, slug: str) -> models.Tenant | None:
        result = await self.session.execute(select(models.Tenant).where(models.Tenant.slug == slug))
        return result.scalar_one_or_none()

    async def find_by_id(self, tenant_id: uuid.UUID) -> models.Tenant | None:
        result = await self.session.execute(select(models.Tenant).where(models.Tenant.id == tenant_id))
        return result.scalar_one_or_none()

    async def set_active(self, tenant_id: uuid.UUID, active: bool) -> models.Tenant | None:
        tenant = await self.lock_for_update(tenant_id)
        if tenant is not None:
            if tenant.is_active != active:
                tenant.deactivated_at = None if active else func.now()
            tenant.is_active = active
            await self.session.flush()
            await self.session.refresh(tenant)
        return tenant

    async def set_setting(self, tenant_id: uuid.UUID, name: str, value: object) -> models.Tenant | None:
        """One key of the tenant's settings (jsonb), the others kept."""
        tenant = await self.lock_for_update(tenant_id)
        if tenant is not None:
            tenant.settings = {**tenant.settings, name: value}
            await self.session.flush()
            await self.session.refresh(tenant)
        return tenant

    async def features_here(self, tenant_id: uuid.UUID) -> list[str]:
        """The tenant's enabled features as this session's home has them (its copy of the row,
        in a bridge or silo: kept in step by every change)."""
        statement = select(models.Tenant.features).where(models.Tenant.id == tenant_id)
        return list((await self.session.execute(statement)).scalar_one_or_none() or [])

    async def lock_for_update(self, tenant_id: uuid.UUID) -> models.Tenant | None:
        result = await self.session.execute(
            select(models.Tenant).where(models.Tenant.id == tenant_id).with_for_update()
        )
        return result.scalar_one_or_none()

    async def active_ids(self, *, placed_only: bool = False) -> list[uuid.UUID]:
        statement = select(models.Tenant.id).where(models.Tenant.is_active)
        if placed_only:
            statement = statement.where(models.Tenant.placement != "pool")
        return list((await self.session.execute(statement)).scalars())

    async def count(self) -> int:
        return int((await self.session.execute(select(func.count()).select_from(models.Tenant))).scalar_one())

    async def create(
        self,
        *,
        slug: str,
        name: str,
        plan: str,
        max_users: int | None = None,
        tenant_id: uuid.UUID | None = None,
        placement: str = "pool",
        cluster: str = "main",
        region: str | None = None,
    ) -> models.Tenant:
        tenant = models.Tenant(
            id=tenant_id or uuid.uuid4(),
            slug=slug,
            name=name,
            plan=plan,
            placement=placement,
            cluster=cluster,
            features=list(plan_features(plan)),
        )
        if max_users is not None:
            tenant.max_users = max_users
        if region is not None:
            tenant.region = region
        await insert_or_conflict(
            self.session, tenant, {"uq_tenants_slug": f"a tenant with slug {slug!r} already exists"}
        )
        return tenant

    async def save_copy(self, values: dict[str, object]) -> None:
        """A bridge or silo home's copy of its tenant's registry row (kit/homes.py). Where the
        tenant lives and whether it is frozen are the home's own (a move sets them), never
        copied over."""
        await self.session.execute(copy_upsert(values, self.session.info["home"]))

    async def announce(self, slug: str, deactivated: uuid.UUID | None = None) -> None:
        """Tell every running server, when this transaction commits, that the tenant changed
        (and, deactivated, that its sockets must close): NOTIFY on the control channel."""
        messages = [pack(channels.REGISTRY, slug)]
        if deactivated is not None:
            messages.append(
                pack(channels.REVOCATIONS, channels.revocation_message(deactivated, None, "tenant deactivated"))
            )
        for payload in messages:
            await channels.announce(self.session, payload)
