from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from lms_graphql.context import Info
from lms_graphql.kit.graphql import require_id
from lms_graphql.notifications import service


@strawberry.type
class Notification:
    id: strawberry.ID
    event_type: str
    title: str
    body: str | None
    payload: JSON
    created_at: datetime
    read_at: datetime | None
    event_id: strawberry.ID | None = strawberry.field(
        description="The domain event behind it; pass as afterEventId when resubscribing."
    )

    @classmethod
    def from_row(cls, row: Any) -> Notification:
        return cls(
            id=strawberry.ID(str(row.id)),
            event_type=row.event_type,
            title=row.title,
            body=row.body,
            payload=row.payload,
            created_at=row.created_at,
            read_at=row.read_at,
            event_id=strawberry.ID(str(row.event_id)) if row.event_id else None,
        )


@strawberry.type
class NotificationQueries:
    @strawberry.field(description="The signed-in user's latest notifications (100 at most), newest first.")
    async def notifications(self, info: Info, unread_only: bool | None = False) -> list[Notification]:
        ctx = info.context
        viewer = ctx.require_viewer()
        async with ctx.read() as session:
            rows = await service.of_viewer(session, ctx.tenant.id, viewer, unread_only=bool(unread_only))
        return [Notification.from_row(row) for row in rows]


@strawberry.type
class NotificationMutations:
    @strawberry.mutation
    async def mark_notification_read(self, info: Info, id: strawberry.ID) -> Notification:
        ctx = info.context
        viewer = ctx.require_viewer()
        key = require_id(id, "notification")
        async with ctx.write() as session:
            row = await service.mark_read(session, ctx.tenant.id, viewer, key)
        return Notification.from_row(row)
