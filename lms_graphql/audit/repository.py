"""SQL for the records of requests: the audit log, and the answers kept under idempotency keys."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import Row, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert

from lms_graphql.kit.pagination import Keyset
from lms_graphql.kit.repository import TenantScopedRepository, newest_first
from lms_graphql.models.tables import AUDIT_LOG as AUDIT
from lms_graphql.models.tables import IDEMPOTENCY_KEYS as KEYS

# Idempotency keys are kept this long.
RETENTION = timedelta(hours=48)


class AuditRepository(TenantScopedRepository):
    async def page(self, after: Keyset | None, limit: int, action: str | None) -> list[Row[Any]]:
        statement = select(AUDIT).where(self.in_tenant(AUDIT))
        if action:
            statement = statement.where(AUDIT.c.action == action)
        page = newest_first(statement, AUDIT.c.occurred_at, AUDIT.c.id, after, limit)
        return list((await self.session.execute(page)).all())


class IdempotencyRepository(TenantScopedRepository):
    async def claim(self, user_id: uuid.UUID, key: str, digest: str) -> bool:
        statement = (
            insert(KEYS)
            .values(tenant_id=self.tenant_id, user_id=user_id, key=key, request_hash=digest, state="running")
            .on_conflict_do_nothing(index_elements=["tenant_id", "user_id", "key"])
            .returning(KEYS.c.id)
        )
        return (await self.session.execute(statement)).scalar_one_or_none() is not None

    async def find(self, user_id: uuid.UUID, key: str) -> Row[Any] | None:
        statement = select(KEYS).where(self.in_tenant(KEYS), KEYS.c.user_id == user_id, KEYS.c.key == key)
        result = await self.session.execute(statement)
        return result.one_or_none()

    async def finish(self, user_id: uuid.UUID, key: str, status: int, body: str) -> None:
        await self.session.execute(
            update(KEYS)
            .where(self.in_tenant(KEYS), KEYS.c.user_id == user_id, KEYS.c.key == key)
            .values(state="done", response_status=status, response_body=body)
        )

    async def forget(self, user_id: uuid.UUID, key: str) -> None:
        statement = delete(KEYS).where(self.in_tenant(KEYS), KEYS.c.user_id == user_id, KEYS.c.key == key)
        await self.session.execute(statement)

    async def prune(self) -> None:
        await self.session.execute(delete(KEYS).where(self.in_tenant(KEYS), KEYS.c.created_at < func.now() - RETENTION))
