"""SQL for the student dashboard's own pieces (the rest comes through the loaders)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Row, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql import models

EVENTS: Table = models.DomainEvent.__table__  # type: ignore[assignment]
RECENT_ACTIVITY_LIMIT = 20


class ActivityRepository:
    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def recent_for(self, user_id: uuid.UUID, limit: int = RECENT_ACTIVITY_LIMIT) -> list[Row[Any]]:
        statement = (
            select(EVENTS.c.id, EVENTS.c.event_type, EVENTS.c.occurred_at, EVENTS.c.course_id, EVENTS.c.payload)
            .where(EVENTS.c.tenant_id == self.tenant_id, EVENTS.c.user_id == user_id)
            .order_by(EVENTS.c.occurred_at.desc(), EVENTS.c.id)
            .limit(limit)
        )
        rows: list[Any] = list((await self.session.execute(statement)).all())
        return rows
