"""SQL for tenants' usage (schema lms_usage, migration 0021): additive counters every server
flushes, gauges the housekeeping job sets, and the operator's reads."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    Row,
    Table,
    Uuid,
    delete,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql import models
from lms_graphql.kit.repository import TenantScopedRepository
from lms_graphql.models.tables import DATA_EXPORTS, ENROLLMENTS, STORED_FILES

# Not in models.Base.metadata: the platform's own schema, outside the tenant data model.
USAGE = MetaData(schema="lms_usage")
TENANT_DAYS = Table(
    "tenant_days",
    USAGE,
    Column("tenant_id", Uuid, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("active_users", Integer, nullable=False),
    Column("enrolled_learners", Integer, nullable=False),
    Column("cost_units", BigInteger, nullable=False),
    Column("websocket_seconds", BigInteger, nullable=False),
    Column("stored_bytes", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
ACTIVE_USERS = Table(
    "active_users",
    USAGE,
    Column("tenant_id", Uuid, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("user_id", Uuid, primary_key=True),
)
COUNTERS = ("cost_units", "websocket_seconds")
GAUGES = ("active_users", "enrolled_learners", "stored_bytes")
ZERO = {name: 0 for name in (*COUNTERS, *GAUGES)}


class UsageRepository:
    """Platform-wide: used in platform transactions, never a tenant's."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, day: date, counters: Mapping[uuid.UUID, Mapping[str, int]]) -> None:
        """Adds each tenant's counters to its row of ``day`` (made if missing): every server's
        share adds up, whichever commits first."""
        for tenant_id, amounts in sorted(counters.items()):  # one lock order: no deadlock between servers
            values = {**ZERO, **amounts, "tenant_id": tenant_id, "day": day}
            statement = insert(TENANT_DAYS).values(**values, updated_at=func.now())
            added = {name: TENANT_DAYS.c[name] + statement.excluded[name] for name in amounts}
            await self.session.execute(
                statement.on_conflict_do_update(
                    index_elements=["tenant_id", "day"], set_={**added, "updated_at": func.now()}
                )
            )

    async def registered(self, tenant_ids: set[uuid.UUID]) -> set[uuid.UUID]:
        """Those of ``tenant_ids`` that are in the registry."""
        if not tenant_ids:
            return set()
        statement = select(models.Tenant.id).where(models.Tenant.id.in_(tenant_ids))
        return set((await self.session.execute(statement)).scalars())

    async def saw(self, day: date, users: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> None:
        if users:
            rows = [{"tenant_id": tenant_id, "day": day, "user_id": user_id} for tenant_id, user_id in users]
            await self.session.execute(insert(ACTIVE_USERS).values(rows).on_conflict_do_nothing())

    async def active_count(self, tenant_id: uuid.UUID, day: date) -> int:
        statement = select(func.count()).where(ACTIVE_USERS.c.tenant_id == tenant_id, ACTIVE_USERS.c.day == day)
        return int((await self.session.execute(statement)).scalar_one())

    async def set_gauges(self, tenant_id: uuid.UUID, day: date, gauges: Mapping[str, int]) -> None:
        statement = insert(TENANT_DAYS).values(
            **{**ZERO, **gauges}, tenant_id=tenant_id, day=day, updated_at=func.now()
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["tenant_id", "day"], set_={**gauges, "updated_at": func.now()}
            )
        )

    async def forget_active_before(self, day: date) -> None:
        await self.session.execute(delete(ACTIVE_USERS).where(ACTIVE_USERS.c.day < day))

    async def days(self, first: date, last: date, tenant_id: uuid.UUID | None = None) -> AsyncGenerator[Row[Any], None]:
        """Rows of ``first`` to ``last`` (inclusive), by day then tenant, with the tenant's slug."""
        statement = (
            select(TENANT_DAYS, models.Tenant.slug)
            .join(models.Tenant, models.Tenant.id == TENANT_DAYS.c.tenant_id)
            .where(TENANT_DAYS.c.day.between(first, last))
            .order_by(TENANT_DAYS.c.day, models.Tenant.slug)
        )
        if tenant_id is not None:
            statement = statement.where(TENANT_DAYS.c.tenant_id == tenant_id)
        result = await self.session.stream(statement.execution_options(yield_per=1000))
        try:
            async for row in result:
                yield row
        finally:  # a consumer that stops early (cancelled, failed) leaves no server-side cursor open
            await result.close()


class TenantFootprintRepository(TenantScopedRepository):
    """What a tenant holds now, read in its own home: its learners and its stored bytes."""

    async def enrolled_learners(self) -> int:
        statement = select(func.count(func.distinct(ENROLLMENTS.c.user_id))).where(
            self.in_tenant(ENROLLMENTS), ENROLLMENTS.c.status != "dropped"
        )
        return int((await self.session.execute(statement)).scalar_one())

    async def stored_bytes(self) -> int:
        files = select(func.coalesce(func.sum(STORED_FILES.c.size_bytes), 0)).where(
            self.in_tenant(STORED_FILES), STORED_FILES.c.status == "ready"
        )
        exports = select(func.coalesce(func.sum(DATA_EXPORTS.c.size_bytes), 0)).where(self.in_tenant(DATA_EXPORTS))
        return int(
            (await self.session.execute(select(files.scalar_subquery() + exports.scalar_subquery()))).scalar_one()
        )
