"""A user's own notifications."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql.auth.viewer import Viewer
from lms_graphql.errors import not_found
from lms_graphql.kit.pagination import Keyset
from lms_graphql.notifications.repository import NotificationRepository


async def of_viewer(session: AsyncSession, tenant_id: uuid.UUID, viewer: Viewer, *, unread_only: bool) -> list[Any]:
    return list(await NotificationRepository(session, tenant_id).of_user(viewer.id, unread_only=unread_only))


async def page_of_viewer(
    session: AsyncSession, tenant_id: uuid.UUID, viewer: Viewer, *, unread_only: bool, after: Keyset | None, limit: int
) -> list[Any]:
    repository = NotificationRepository(session, tenant_id)
    return await repository.page_of_user(viewer.id, unread_only=unread_only, after=after, limit=limit)


async def mark_read(session: AsyncSession, tenant_id: uuid.UUID, viewer: Viewer, notification_id: uuid.UUID) -> Any:
    """Only one's own: anyone else's answers NOT_FOUND, like an absent one."""
    row = await NotificationRepository(session, tenant_id).mark_read(viewer.id, notification_id)
    if row is None:
        raise not_found("notification not found")
    return row
