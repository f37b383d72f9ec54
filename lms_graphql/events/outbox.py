"""Appending domain events (seed envelope) to the outbox, in the caller's transaction.

An event exists if and only if the change that caused it commits: it is a row written by
the same transaction. Publishing committed rows is the relay's job.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql import models

EVENT_VERSION = 1


async def append_event(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    event_type: str,
    user_id: uuid.UUID | None,
    payload: dict[str, Any],
    course_id: uuid.UUID | None = None,
) -> uuid.UUID:
    event_id = uuid.uuid4()
    session.add(
        models.DomainEvent(
            id=event_id,
            tenant_id=tenant_id,
            event_type=event_type,
            user_id=user_id,
            course_id=course_id,
            version=EVENT_VERSION,
            payload=payload,
        )
    )
    await session.flush()
    session.info["events_written"] = True  # the relay is told once the transaction commits
    return event_id
