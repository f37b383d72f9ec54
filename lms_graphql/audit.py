"""The audit log of actions a platform operator takes inside tenants."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql import models
from lms_graphql.context import Viewer


async def record(
    session: AsyncSession, tenant_id: uuid.UUID, viewer: Viewer, action: str, details: dict[str, Any]
) -> None:
    """Record ``action`` in ``tenant_id``'s log; ``session`` must be bound to that tenant."""
    session.add(
        models.AuditEntry(
            tenant_id=tenant_id,
            actor_tenant_id=viewer.home_tenant_id,
            actor_user_id=viewer.id,
            action=action,
            details=details,
        )
    )
    await session.flush()
