"""Registered documents over GraphQL: what a tenant's admins can see of them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from lms_graphql.auth.permissions import Permission
from lms_graphql.context import Info
from lms_graphql.documents import service


@strawberry.type(
    description="A GraphQL document registered ahead of use (lms-graphql documents add): clients send its id "
    "instead of its text, and a trusted-only tenant runs nothing else. Parsed, validated and costed once, "
    "when registered."
)
class TrustedDocument:
    document_id: str = strawberry.field(
        description="The id clients send: as documentId (also sha256:<hex>), Relay's doc_id, or "
        "extensions.persistedQuery.sha256Hash."
    )
    operation_names: list[str] = strawberry.field(
        description="The operations the document holds, by name ('' for an anonymous one)."
    )
    operation_kinds: list[str] = strawberry.field(
        description="What each of those operations is (query, mutation or subscription), in the same order."
    )
    cost: int = strawberry.field(
        description="Its most costly operation's estimated cost at its variables' defaults, as the query limits "
        "count it."
    )
    source: str = strawberry.field(description="The manifest file it was registered from.")
    platform: bool = strawberry.field(
        description="True: registered by the platform for every tenant; false: this tenant's own."
    )
    registered_at: datetime = strawberry.field(description="When it was registered (UTC).")

    @classmethod
    def from_row(cls, row: Any, *, platform: bool) -> TrustedDocument:
        return cls(
            document_id=row.document_id,
            operation_names=list(row.operation_names),
            operation_kinds=list(row.operation_kinds),
            cost=row.cost,
            source=row.source,
            platform=platform,
            registered_at=row.created_at,
        )


@strawberry.type(description="The documents this tenant's clients may send by id, and whether they must.")
class TrustedDocuments:
    mode: str = strawberry.field(
        description="Whether clients must send registered documents: 'any' (documents as text too) or "
        "'trusted-only' (admins may still explore in GraphiQL where the server serves it)."
    )
    documents: list[TrustedDocument] = strawberry.field(
        description="The tenant's own documents, then the platform's, oldest first."
    )


@strawberry.type
class DocumentQueries:
    @strawberry.field(
        description="The registered (trusted) documents this tenant's clients may send by id: for admins. "
        "Errors: UNAUTHENTICATED without a token; FORBIDDEN below admin."
    )
    async def trusted_documents(self, info: Info) -> TrustedDocuments:
        ctx = info.context
        ctx.require(Permission.TENANT_OVERVIEW)
        async with ctx.read() as session:
            own = await service.listing(session, ctx.tenant.id)
        async with ctx.services.db.platform_transaction() as session:  # in the platform database
            platform = await service.listing(session, None)
        documents = [TrustedDocument.from_row(row, platform=False) for row in own]
        documents += [TrustedDocument.from_row(row, platform=True) for row in platform]
        return TrustedDocuments(mode=service.mode(ctx.services.settings, ctx.tenant), documents=documents)
