"""SQL for the outbox: what the relay publishes, and what live feeds re-read."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, delete, func, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql.kit.pagination import Keyset
from lms_graphql.kit.repository import TenantScopedRepository
from lms_graphql.models.tables import COURSES, EVENTS, NOTIFICATIONS, USERS


class OutboxRepository(TenantScopedRepository):
    async def unpublished(self, limit: int) -> list[Row[Any]]:
        """Committed, not yet published events, oldest first; rows another relay holds are skipped."""
        statement = (
            select(
                EVENTS.c.id,
                EVENTS.c.event_type,
                EVENTS.c.user_id,
                EVENTS.c.course_id,
                func.extract("epoch", func.clock_timestamp() - EVENTS.c.occurred_at).label("age_seconds"),
            )
            .where(self.in_tenant(EVENTS), EVENTS.c.published_at.is_(None))
            .order_by(EVENTS.c.occurred_at, EVENTS.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows: list[Any] = list((await self.session.execute(statement)).all())
        return rows

    async def recipients(self, event_ids: Sequence[uuid.UUID], first: int) -> list[Row[Any]]:
        """Per event: how many were notified, and the first ``first`` of them."""
        statement = (
            select(
                NOTIFICATIONS.c.event_id,
                func.count().label("total"),
                func.array_agg(NOTIFICATIONS.c.user_id)[1:first].label("users"),
            )
            .where(self.in_tenant(NOTIFICATIONS), NOTIFICATIONS.c.event_id.in_(event_ids))
            .group_by(NOTIFICATIONS.c.event_id)
        )
        return list((await self.session.execute(statement)).all())

    async def mark_published(self, event_ids: Sequence[uuid.UUID]) -> None:
        await self.session.execute(
            update(EVENTS).where(self.in_tenant(EVENTS), EVENTS.c.id.in_(event_ids)).values(published_at=func.now())
        )

    async def prune(self, before: datetime) -> int:
        result = await self.session.execute(
            delete(EVENTS).where(
                self.in_tenant(EVENTS),
                EVENTS.c.published_at.is_not(None),
                EVENTS.c.published_at < before,
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


async def outbox_backlog(session: AsyncSession) -> tuple[int, float]:
    """Unpublished events of every active tenant, and the oldest one's age in seconds (0 when
    none waits): the migration's outbox_backlog() visits each tenant under its own binding."""
    await session.execute(text("SET LOCAL statement_timeout = '5s'"))
    row = (
        await session.execute(
            text("SELECT events, coalesce(extract(epoch FROM clock_timestamp() - oldest), 0) FROM outbox_backlog()")
        )
    ).one()
    return int(row[0]), float(row[1])


class FeedRepository(TenantScopedRepository):
    """What live subscriptions re-read, each read also re-checking the subscriber."""

    async def notifications(
        self, user_id: uuid.UUID, *, event_id: uuid.UUID | None = None, after: Keyset | None = None, limit: int
    ) -> list[Row[Any]]:
        """The user's notifications of one event, or after a position (created_at, id)."""
        statement = select(NOTIFICATIONS).where(self.in_tenant(NOTIFICATIONS), NOTIFICATIONS.c.user_id == user_id)
        if event_id is not None:
            statement = statement.where(NOTIFICATIONS.c.event_id == event_id)
        if after is not None:
            statement = statement.where(
                tuple_(NOTIFICATIONS.c.created_at, NOTIFICATIONS.c.id) > tuple_(after.at, after.id)
            )
        statement = statement.order_by(NOTIFICATIONS.c.created_at, NOTIFICATIONS.c.id).limit(limit)
        return list((await self.session.execute(statement)).all())

    async def notification_of_event(self, user_id: uuid.UUID, event_id: uuid.UUID) -> Row[Any] | None:
        rows = await self.notifications(user_id, event_id=event_id, limit=1)
        return rows[0] if rows else None

    async def progress_events(
        self, course_id: uuid.UUID, *, event_id: uuid.UUID | None = None, after: Keyset | None = None, limit: int
    ) -> list[Row[Any]]:
        statement = select(EVENTS).where(
            and_(
                self.in_tenant(EVENTS),
                EVENTS.c.course_id == course_id,
                EVENTS.c.event_type == "lesson.progressed",
            )
        )
        if event_id is not None:
            statement = statement.where(EVENTS.c.id == event_id)
        if after is not None:
            statement = statement.where(tuple_(EVENTS.c.occurred_at, EVENTS.c.id) > tuple_(after.at, after.id))
        statement = statement.order_by(EVENTS.c.occurred_at, EVENTS.c.id).limit(limit)
        return list((await self.session.execute(statement)).all())

    async def event(self, event_id: uuid.UUID) -> Row[Any] | None:
        statement = select(EVENTS).where(self.in_tenant(EVENTS), EVENTS.c.id == event_id)
        result = await self.session.execute(statement)
        return result.one_or_none()


class FeedBatchRepository(TenantScopedRepository):
    """The same reads for many subscribers at once: one statement per batch."""

    async def subscribers(self, user_ids: Sequence[uuid.UUID]) -> list[Row[Any]]:
        statement = select(USERS.c.id, USERS.c.is_active, USERS.c.token_version, USERS.c.role).where(
            self.in_tenant(USERS), USERS.c.id.in_(user_ids)
        )
        rows: list[Any] = list((await self.session.execute(statement)).all())
        return rows

    async def instructors(self, course_ids: Sequence[uuid.UUID]) -> list[Row[Any]]:
        statement = select(COURSES.c.id, COURSES.c.instructor_id).where(
            self.in_tenant(COURSES), COURSES.c.id.in_(course_ids)
        )
        rows: list[Any] = list((await self.session.execute(statement)).all())
        return rows

    async def events(self, event_ids: Sequence[uuid.UUID]) -> list[Row[Any]]:
        statement = select(EVENTS).where(self.in_tenant(EVENTS), EVENTS.c.id.in_(event_ids))
        return list((await self.session.execute(statement)).all())

    async def notifications(self, keys: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> list[Row[Any]]:
        """Notifications by (user_id, event_id)."""
        statement = select(NOTIFICATIONS).where(
            self.in_tenant(NOTIFICATIONS),
            tuple_(NOTIFICATIONS.c.user_id, NOTIFICATIONS.c.event_id).in_(keys),
        )
        return list((await self.session.execute(statement)).all())
