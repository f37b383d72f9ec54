from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry

from lms_graphql.auth.permissions import Permission
from lms_graphql.context import Context, Info
from lms_graphql.kit.graphql import require_id
from lms_graphql.privacy import erasure, exports
from lms_graphql.storage.types import public_url
from lms_graphql.users.graphql import User


@strawberry.enum(description="Where an export of a person's data is.")
class DataExportStatus(Enum):
    PENDING = strawberry.enum_value("pending", description="A job is building the archive.")
    READY = strawberry.enum_value("ready", description="The archive can be downloaded until expiresAt.")
    FAILED = strawberry.enum_value("failed", description="Building it failed (see error): ask again.")


@strawberry.type(
    description="An archive of everything the platform holds about a person (GDPR articles 15 and 20): a zip of "
    "manifest.json, tables/<table>.json (their rows, as JSON arrays) and files/ (their submission attachments)."
)
class DataExport:
    id: strawberry.ID = strawberry.field(description="Opaque id of the export.")
    user_id: strawberry.ID = strawberry.field(description="Whose data it holds.")
    status: DataExportStatus = strawberry.field(description="Building, ready or failed.")
    created_at: datetime = strawberry.field(description="When it was asked for (UTC).")
    finished_at: datetime | None = strawberry.field(description="When the job finished; null while pending.")
    expires_at: datetime | None = strawberry.field(
        description="When the archive is deleted (7 days after it was built); null until it is ready."
    )
    size_bytes: int | None = strawberry.field(description="The archive's size; null until it is ready.")
    error: str | None = strawberry.field(description="Why building it failed; null otherwise.")
    download_url: str | None = strawberry.field(
        description="A signed link to the archive, valid an hour (at most until expiresAt); each download is "
        "recorded in the audit log. Null unless READY."
    )

    @classmethod
    def of(cls, ctx: Context, row: Any) -> DataExport:
        link = exports.download_link(ctx.services.storage, row)
        return cls(
            id=strawberry.ID(str(row.id)),
            user_id=strawberry.ID(str(row.user_id)),
            status=DataExportStatus(row.status),
            created_at=row.created_at,
            finished_at=row.finished_at,
            expires_at=row.expires_at,
            size_bytes=row.size_bytes,
            error=row.error,
            download_url=public_url(ctx.request, link) if link is not None else None,
        )


@strawberry.type
class PrivacyQueries:
    @strawberry.field(
        description="An export of personal data: the person's own, or any of the tenant's for admins. Errors: "
        "UNAUTHENTICATED without a token; NOT_FOUND for an unknown id or another person's export."
    )
    async def data_export(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The export's id.")]
    ) -> DataExport:
        ctx = info.context
        viewer = ctx.require_viewer()
        export_id = require_id(id, "export")
        async with ctx.read() as session:
            row = await exports.visible_export(session, ctx.tenant.id, viewer, export_id)
        return DataExport.of(ctx, row)

    @strawberry.field(
        description="The signed-in person's exports, newest first (at most 20). Errors: UNAUTHENTICATED without a "
        "token."
    )
    async def my_data_exports(self, info: Info) -> list[DataExport]:
        ctx = info.context
        viewer = ctx.require_viewer()
        async with ctx.read() as session:
            rows = await exports.exports_of(session, ctx.tenant.id, viewer.id)
        return [DataExport.of(ctx, row) for row in rows]


@strawberry.type
class PrivacyMutations:
    @strawberry.mutation(
        description="Export everything the platform holds about you: a job builds the archive; poll dataExport "
        "(or myDataExports) for its downloadUrl. Errors: UNAUTHENTICATED without a token; RATE_LIMITED while 3 of "
        "your exports are still being built."
    )
    async def export_my_data(self, info: Info) -> DataExport:
        ctx = info.context
        viewer = ctx.require_viewer()
        return await _export(ctx, viewer.id)

    @strawberry.mutation(
        description="Admins export everything the platform holds about one of the tenant's users (a request made "
        "to the organisation). Errors: UNAUTHENTICATED without a token; FORBIDDEN for roles below admin; NOT_FOUND "
        "for an unknown user; RATE_LIMITED while 3 exports of this user are still being built."
    )
    async def export_user_data(
        self, info: Info, user_id: Annotated[strawberry.ID, strawberry.argument(description="Whose data.")]
    ) -> DataExport:
        ctx = info.context
        ctx.require(Permission.USER_MANAGE)
        return await _export(ctx, require_id(user_id, "user"))

    @strawberry.mutation(
        description="Admins erase a user's personal data (GDPR article 17), irreversibly: name, email, avatar, "
        "free-text answers, feedback, notifications, attachments and exports go, and audit entries and outbox "
        "events lose what named them; the account stays as an anonymous 'Erased user' so counts, statistics and "
        "grades stay true, and certificates stay verifiable without the name. The user cannot sign in again and "
        "their email can be registered anew. Erasing an erased user changes nothing. Errors: UNAUTHENTICATED "
        "without a token; FORBIDDEN for roles below admin, for yourself, and for a SUPER_ADMIN unless you are a "
        "platform operator; NOT_FOUND for an unknown id."
    )
    async def erase_user(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The user to erase.")]
    ) -> User:
        ctx = info.context
        viewer = ctx.require(Permission.USER_MANAGE)
        user_id = require_id(id, "user")
        async with ctx.write() as session:
            user = await erasure.erase_user(session, ctx.tenant.id, viewer, user_id)
        return User.from_row(user)


async def _export(ctx: Context, user_id: uuid.UUID) -> DataExport:
    viewer = ctx.require_viewer()
    async with ctx.write() as session:
        row = await exports.request_export(session, ctx.tenant.id, viewer, user_id)
    return DataExport.of(ctx, row)
