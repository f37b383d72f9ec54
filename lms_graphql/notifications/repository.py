"""SQL for a user's notifications."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Row, Uuid, func, literal, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert

from lms_graphql.kit.pagination import Keyset
from lms_graphql.kit.repository import TenantScopedRepository, newest_first
from lms_graphql.models.tables import NOTIFICATIONS, USERS

LIST_LIMIT = 100


class NotificationRepository(TenantScopedRepository):
    async def of_user(self, user_id: uuid.UUID, *, unread_only: bool) -> list[Row[Any]]:
        statement = select(NOTIFICATIONS).where(self.in_tenant(NOTIFICATIONS), NOTIFICATIONS.c.user_id == user_id)
        if unread_only:
            statement = statement.where(NOTIFICATIONS.c.read_at.is_(None))
        statement = statement.order_by(NOTIFICATIONS.c.created_at.desc(), NOTIFICATIONS.c.id).limit(LIST_LIMIT)
        return list((await self.session.execute(statement)).all())

    async def page_of_user(
        self, user_id: uuid.UUID, *, unread_only: bool, after: Keyset | None, limit: int
    ) -> list[Row[Any]]:
        statement = select(NOTIFICATIONS).where(self.in_tenant(NOTIFICATIONS), NOTIFICATIONS.c.user_id == user_id)
        if unread_only:
            statement = statement.where(NOTIFICATIONS.c.read_at.is_(None))
        page = newest_first(statement, NOTIFICATIONS.c.created_at, NOTIFICATIONS.c.id, after, limit)
        return list((await self.session.execute(page)).all())

    async def mark_read(self, user_id: uuid.UUID, notification_id: uuid.UUID) -> Row[Any] | None:
        """Marks the user's own notification read (once; later calls keep the first time)."""
        statement = (
            update(NOTIFICATIONS)
            .where(
                self.in_tenant(NOTIFICATIONS),
                NOTIFICATIONS.c.user_id == user_id,
                NOTIFICATIONS.c.id == notification_id,
            )
            .values(read_at=func.coalesce(NOTIFICATIONS.c.read_at, func.now()))
            .returning(*NOTIFICATIONS.c)
        )
        return (await self.session.execute(statement)).one_or_none()

    async def add(
        self,
        user_ids: list[uuid.UUID],
        *,
        event_id: uuid.UUID,
        event_type: str,
        title: str,
        body: str | None,
        payload: dict[str, Any],
    ) -> None:
        """One notification per user for the event; a repeated event adds nothing."""
        if not user_ids:
            return
        statement = (
            insert(NOTIFICATIONS)
            .values(
                [
                    {
                        "tenant_id": self.tenant_id,
                        "user_id": user_id,
                        "event_id": event_id,
                        "event_type": event_type,
                        "title": title,
                        "body": body,
                        "payload": payload,
                    }
                    for user_id in dict.fromkeys(user_ids)
                ]
            )
            .on_conflict_do_nothing(index_elements=["tenant_id", "user_id", "event_id"])
        )
        await self.session.execute(statement)

    async def add_for_students(
        self, *, event_id: uuid.UUID, event_type: str, title: str, body: str | None, payload: dict[str, Any]
    ) -> None:
        """One notification for every active student of the tenant, in one statement."""
        # The id is generated per row in SQL: a Python-side default would be one value for all.
        students = select(
            func.gen_random_uuid(),
            literal(self.tenant_id, Uuid),
            USERS.c.id,
            literal(event_id, Uuid),
            literal(event_type),
            literal(title),
            literal(body),
            literal(payload, JSONB),
        ).where(self.in_tenant(USERS), USERS.c.role == "student", USERS.c.is_active)
        statement = (
            insert(NOTIFICATIONS)
            .from_select(["id", "tenant_id", "user_id", "event_id", "event_type", "title", "body", "payload"], students)
            .on_conflict_do_nothing(index_elements=["tenant_id", "user_id", "event_id"])
        )
        await self.session.execute(statement)
