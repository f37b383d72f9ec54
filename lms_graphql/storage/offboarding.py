"""A departing tenant's content: every stored file's row, then every object under its prefix."""

from __future__ import annotations

import uuid

from lms_graphql.kit.db import Database
from lms_graphql.storage import keys
from lms_graphql.storage.backends import Storage
from lms_graphql.storage.repository import FileRepository


async def delete_tenant_content(db: Database, storage: Storage, tenant_id: uuid.UUID) -> int:
    """Returns how many objects were removed. The rows go first (nothing refers to an object
    that is gone); running it again after a failure finishes the job."""
    async with db.tenant_transaction(tenant_id) as session:
        await FileRepository(session, tenant_id).remove_all()
    return await storage.store.delete_prefix(keys.tenant_prefix(tenant_id))
