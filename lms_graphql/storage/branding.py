"""A tenant's logo: uploaded like any content (a ticket, then a checked confirmation), kept under
{tenant}/branding/, the one before it removed once the new one is in place."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql.auth.viewer import Viewer
from lms_graphql.storage import keys
from lms_graphql.storage.backends import Storage
from lms_graphql.storage.repository import FileRepository
from lms_graphql.storage.service import Ticket, checked_upload, forget_files, issue_ticket, pending_upload
from lms_graphql.tenancy.tenant import TenantConfig


async def request_logo_upload(
    session: AsyncSession, tenant: TenantConfig, viewer: Viewer, storage: Storage, content_type: str, size: int
) -> Ticket:
    return await issue_ticket(
        session,
        storage,
        tenant.id,
        viewer,
        "branding",
        content_type,
        size,
        lambda file_id, kind: keys.branding_file(tenant.id, file_id, kind),
    )


async def confirm_logo_upload(
    session: AsyncSession, tenant: TenantConfig, viewer: Viewer, storage: Storage, file_id: uuid.UUID
) -> str:
    """The checked logo's object key; the logos before it are removed when this commits."""
    file = await pending_upload(session, tenant, viewer, file_id, "branding")
    size = await checked_upload(storage, file)
    file.status, file.size_bytes, file.confirmed_at = "ready", size, datetime.now(UTC)
    await session.flush()
    await forget_files(session, tenant.id, await FileRepository(session, tenant.id).branding_except(file.id))
    return file.object_key
