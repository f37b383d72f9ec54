"""SQL for data exports: the rows that track each archive."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, update

from lms_graphql.kit.repository import TenantScopedRepository
from lms_graphql.models.tables import DATA_EXPORTS


class DataExportRepository(TenantScopedRepository):
    async def add(self, user_id: uuid.UUID, requested_by: uuid.UUID) -> Row[Any]:
        statement = (
            insert(DATA_EXPORTS)
            .values(tenant_id=self.tenant_id, user_id=user_id, requested_by=requested_by)
            .returning(*DATA_EXPORTS.c)
        )
        return (await self.session.execute(statement)).one()

    async def get(self, export_id: uuid.UUID) -> Row[Any] | None:
        statement = select(DATA_EXPORTS).where(self.in_tenant(DATA_EXPORTS), DATA_EXPORTS.c.id == export_id)
        return (await self.session.execute(statement)).one_or_none()

    async def waiting_of(self, user_id: uuid.UUID) -> int:
        statement = select(func.count()).where(
            self.in_tenant(DATA_EXPORTS), DATA_EXPORTS.c.user_id == user_id, DATA_EXPORTS.c.status == "pending"
        )
        return int((await self.session.execute(statement)).scalar_one())

    async def of_user(self, user_id: uuid.UUID, limit: int = 20) -> list[Row[Any]]:
        statement = (
            select(DATA_EXPORTS)
            .where(self.in_tenant(DATA_EXPORTS), DATA_EXPORTS.c.user_id == user_id)
            .order_by(DATA_EXPORTS.c.created_at.desc(), DATA_EXPORTS.c.id)
            .limit(limit)
        )
        return list((await self.session.execute(statement)).all())

    async def finish(self, export_id: uuid.UUID, object_key: str, size: int, expires_at: datetime) -> bool:
        """Ready, if it was still pending (the person may have been erased meanwhile)."""
        statement = (
            update(DATA_EXPORTS)
            .where(self.in_tenant(DATA_EXPORTS), DATA_EXPORTS.c.id == export_id, DATA_EXPORTS.c.status == "pending")
            .values(status="ready", object_key=object_key, size_bytes=size, expires_at=expires_at)
            .values(finished_at=func.now())
        )
        return bool((await self.session.execute(statement)).rowcount)  # type: ignore[attr-defined]

    async def fail(self, export_id: uuid.UUID, error: str) -> None:
        statement = (
            update(DATA_EXPORTS)
            .where(self.in_tenant(DATA_EXPORTS), DATA_EXPORTS.c.id == export_id, DATA_EXPORTS.c.status == "pending")
            .values(status="failed", error=error, finished_at=func.now())
        )
        await self.session.execute(statement)

    async def expired(self, now: datetime) -> list[Row[Any]]:
        statement = select(DATA_EXPORTS).where(self.in_tenant(DATA_EXPORTS), DATA_EXPORTS.c.expires_at <= now)
        return list((await self.session.execute(statement)).all())

    async def remove(self, export_ids: Sequence[uuid.UUID]) -> None:
        statement = delete(DATA_EXPORTS).where(self.in_tenant(DATA_EXPORTS), DATA_EXPORTS.c.id.in_(export_ids))
        await self.session.execute(statement)
