"""A domain event and the notifications it causes, written together in the caller's transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql.events.outbox import append_event
from lms_graphql.notifications.repository import NotificationRepository


@dataclass(frozen=True)
class Notice:
    """What the recipients read: ``title`` and ``body`` for people, the payload for clients."""

    title: str
    body: str | None = None
    recipients: tuple[uuid.UUID, ...] = ()
    all_students: bool = False


async def record_event(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    event_type: str,
    user_id: uuid.UUID | None,
    payload: dict[str, Any],
    course_id: uuid.UUID | None = None,
    notice: Notice | None = None,
) -> uuid.UUID:
    event_id = await append_event(
        session, tenant_id=tenant_id, event_type=event_type, user_id=user_id, payload=payload, course_id=course_id
    )
    if notice is not None:
        notifications = NotificationRepository(session, tenant_id)
        if notice.all_students:
            await notifications.add_for_students(
                event_id=event_id, event_type=event_type, title=notice.title, body=notice.body, payload=payload
            )
        await notifications.add(
            list(notice.recipients),
            event_id=event_id,
            event_type=event_type,
            title=notice.title,
            body=notice.body,
            payload=payload,
        )
    return event_id
