from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from lms_graphql.context import Info
from lms_graphql.kit.connections import Connection, connection
from lms_graphql.kit.graphql import require_id
from lms_graphql.kit.pagination import decode_cursor, page_size
from lms_graphql.notifications import service


@strawberry.type(
    description="A message for one user, caused by a domain event (a grade, a certificate, a new course, an "
    "enrollment, work to grade). Only its recipient sees it."
)
class Notification:
    id: strawberry.ID = strawberry.field(description="Opaque id of the notification.")
    event_type: str = strawberry.field(
        description="The domain event type behind it, e.g. assessment.graded or course.published."
    )
    title: str = strawberry.field(description="A short text for people, e.g. 'Graded: Quiz 1'.")
    body: str | None = strawberry.field(description="More text for people; null when there is none.")
    payload: JSON = strawberry.field(description="The domain event's payload, a JSON object for clients.")
    created_at: datetime = strawberry.field(description="When it was created (UTC).")
    read_at: datetime | None = strawberry.field(description="When it was first marked read; null while unread.")
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
    @strawberry.field(
        description="The signed-in user's latest notifications (100 at most), newest first. Errors: UNAUTHENTICATED "
        "without a token."
    )
    async def notifications(
        self,
        info: Info,
        unread_only: Annotated[
            bool | None, strawberry.argument(description="True: only those not marked read.")
        ] = False,
    ) -> list[Notification]:
        ctx = info.context
        viewer = ctx.require_viewer()
        async with ctx.read() as session:
            rows = await service.of_viewer(session, ctx.tenant.id, viewer, unread_only=bool(unread_only))
        return [Notification.from_row(row) for row in rows]

    @strawberry.field(
        description="The signed-in user's notifications, newest first, a page at a time (all of them, where "
        "notifications lists the latest 100). Errors: UNAUTHENTICATED without a token; BAD_USER_INPUT for `first` "
        "outside 0-100 or an invalid cursor."
    )
    async def notifications_connection(
        self,
        info: Info,
        unread_only: Annotated[
            bool | None, strawberry.argument(description="True: only those not marked read.")
        ] = False,
        first: Annotated[int | None, strawberry.argument(description="How many, 0-100; null: 20.")] = 20,
        after: Annotated[
            str | None, strawberry.argument(description="The endCursor of the previous page; null: from the newest.")
        ] = None,
    ) -> Connection[Notification]:
        ctx = info.context
        viewer = ctx.require_viewer()
        limit, cursor = page_size(first), decode_cursor(after) if after else None
        async with ctx.read() as session:
            rows = await service.page_of_viewer(
                session, ctx.tenant.id, viewer, unread_only=bool(unread_only), after=cursor, limit=limit + 1
            )
        return connection(rows, limit, Notification.from_row, "created_at")


@strawberry.type
class NotificationMutations:
    @strawberry.mutation(
        description="Mark one of the signed-in user's notifications read; marking it again keeps the first time. "
        "Errors: UNAUTHENTICATED without a token; NOT_FOUND when it is unknown or someone else's."
    )
    async def mark_notification_read(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The notification's id.")]
    ) -> Notification:
        ctx = info.context
        viewer = ctx.require_viewer()
        key = require_id(id, "notification")
        async with ctx.write() as session:
            row = await service.mark_read(session, ctx.tenant.id, viewer, key)
        return Notification.from_row(row)
