"""The audit log over GraphQL: for the tenant's admins."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from lms_graphql.audit import service
from lms_graphql.context import Info
from lms_graphql.kit.pagination import encode_cursor, page_size


@strawberry.type
class AuditEntry:
    id: strawberry.ID
    action: str = strawberry.field(description="The mutation (or operator action) recorded.")
    actor_user_id: strawberry.ID | None
    actor_tenant_id: strawberry.ID = strawberry.field(description="Differs from the tenant for a platform operator.")
    outcome: str = strawberry.field(description="OK, or the error code the action ended with.")
    details: JSON = strawberry.field(description="Variables (secrets redacted), request id.")
    occurred_at: datetime

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


@strawberry.type
class AuditEdge:
    node: AuditEntry
    cursor: str


@strawberry.type
class AuditPage:
    edges: list[AuditEdge]
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class AuditQueries:
    @strawberry.field(description="The tenant's audit log, newest first: for admins.")
    async def audit_log(
        self, info: Info, first: int | None = 20, after: str | None = None, action: str | None = None
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
