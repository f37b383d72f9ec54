"""SQL for a user's notifications."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Row, Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql import models

NOTIFICATIONS: Table = models.Notification.__table__  # type: ignore[assignment]
LIST_LIMIT = 100


class NotificationRepository:
    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def of_user(self, user_id: uuid.UUID, *, unread_only: bool) -> list[Row[Any]]:
        statement = select(NOTIFICATIONS).where(
            NOTIFICATIONS.c.tenant_id == self.tenant_id, NOTIFICATIONS.c.user_id == user_id
        )
        if unread_only:
            statement = statement.where(NOTIFICATIONS.c.read_at.is_(None))
        statement = statement.order_by(NOTIFICATIONS.c.created_at.desc(), NOTIFICATIONS.c.id).limit(LIST_LIMIT)
        return list((await self.session.execute(statement)).all())

    async def mark_read(self, user_id: uuid.UUID, notification_id: uuid.UUID) -> Row[Any] | None:
        """Marks the user's own notification read (once; later calls keep the first time)."""
        statement = (
            update(NOTIFICATIONS)
            .where(
                NOTIFICATIONS.c.tenant_id == self.tenant_id,
                NOTIFICATIONS.c.user_id == user_id,
                NOTIFICATIONS.c.id == notification_id,
            )
            .values(read_at=func.coalesce(NOTIFICATIONS.c.read_at, func.now()))
            .returning(*NOTIFICATIONS.c)
        )
        return (await self.session.execute(statement)).one_or_none()
