"""The audit log over GraphQL: for the tenant's admins."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from lms_graphql.audit import service
from lms_graphql.context import Info
from lms_graphql.kit.pagination import encode_cursor, page_size


@strawberry.type(description="One recorded action: a mutation, or a platform operator's action on the tenant.")
class AuditEntry:
    id: strawberry.ID = strawberry.field(description="Opaque id of the entry.")
    action: str = strawberry.field(
        description="The mutation's field name (e.g. createCourse), or an operator action: tenant.create, "
        "tenant.activate or tenant.deactivate."
    )
    actor_user_id: strawberry.ID | None = strawberry.field(
        description="The user who acted; null when nobody was signed in (e.g. a login)."
    )
    actor_tenant_id: strawberry.ID = strawberry.field(
        description="The actor's own tenant: differs from this tenant for a visiting platform operator."
    )
    outcome: str = strawberry.field(description="OK, or the error code the action ended with.")
    details: JSON = strawberry.field(
        description="A JSON object: for a mutation, the variables its document declares (secret-looking ones "
        "redacted) and the request id."
    )
    occurred_at: datetime = strawberry.field(description="When it happened (UTC).")

    @classmethod
    def from_row(cls, row: Any) -> AuditEntry:
        details: Any = dict(row.details or {})
        return cls(
            id=strawberry.ID(str(row.id)),
            action=row.action,
            actor_user_id=strawberry.ID(str(row.actor_user_id)) if row.actor_user_id else None,
            actor_tenant_id=strawberry.ID(str(row.actor_tenant_id)),
            outcome=str(details.pop("outcome", "OK")),
            details=details,
            occurred_at=row.occurred_at,
        )


@strawberry.type(description="An entry in a page of the audit log.")
class AuditEdge:
    node: AuditEntry = strawberry.field(description="The entry.")
    cursor: str = strawberry.field(description="Opaque cursor of this entry: pass it as `after` to continue after it.")


@strawberry.type(description="A page of the audit log, newest first.")
class AuditPage:
    edges: list[AuditEdge] = strawberry.field(description="The entries of this page, at most `first` of them.")
    has_next_page: bool = strawberry.field(description="True when older entries follow this page.")
    end_cursor: str | None = strawberry.field(
        description="The last entry's cursor: pass it as `after` for the next page; null on an empty page."
    )


@strawberry.type
class AuditQueries:
    @strawberry.field(
        description="The tenant's audit log, newest first: for admins. Errors: UNAUTHENTICATED without a token; "
        "FORBIDDEN below admin; BAD_USER_INPUT for `first` outside 0-100 or an invalid cursor."
    )
    async def audit_log(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description="How many entries, 0-100; null: 20.")] = 20,
        after: Annotated[
            str | None,
            strawberry.argument(description="The endCursor of the previous page; null: from the newest entry."),
        ] = None,
        action: Annotated[
            str | None,
            strawberry.argument(description="Only entries of this action (exact match, e.g. createCourse); null: all."),
        ] = None,
    ) -> AuditPage:
        ctx = info.context
        viewer = ctx.require_viewer()
        async with ctx.read() as session:
            rows = await service.page(session, ctx.tenant.id, viewer, first, after, action)
        limit = page_size(first)
        edges = [
            AuditEdge(node=AuditEntry.from_row(row), cursor=encode_cursor(row.occurred_at, row.id))
            for row in rows[:limit]
        ]
        return AuditPage(edges=edges, has_next_page=len(rows) > limit, end_cursor=edges[-1].cursor if edges else None)
