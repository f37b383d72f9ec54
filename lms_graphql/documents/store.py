"""What this process knows of registered documents, and the automatic persisted queries its
clients registered here (as Apollo Server keeps them: in memory, per process; a client whose
hash one process does not know sends the text again, by protocol)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache, TTLCache
from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql.documents.repository import PlatformDocumentRepository, TrustedDocumentRepository
from lms_graphql.kit import channels
from lms_graphql.kit.channels import pack
from lms_graphql.kit.db import Database
from lms_graphql.kit.graphql import CACHED_DOCUMENT_CHARS, CACHED_DOCUMENTS

FOUND_SIZE = 4_096
# A lookup that read a document just before its removal committed could store it after the
# removal's notice cleared the cache: found entries expire too.
FOUND_TTL_SECONDS = 300.0
# Unknown ids are remembered briefly: a client sending a stale id again and again does not
# reach the database each time; a registration anywhere clears them at once (the bus).
MISSING_SIZE = 4_096
MISSING_TTL_SECONDS = 60.0
PLATFORM = "platform"  # the bus message for a change of the platform's documents


@dataclass(frozen=True)
class Registered:
    document_id: str
    body: str
    operation_names: tuple[str, ...]
    operation_kinds: tuple[str, ...]
    cost: int
    schema_hash: str

    @classmethod
    def from_row(cls, row: Any) -> Registered:
        return cls(
            row.document_id,
            row.body,
            tuple(row.operation_names),
            tuple(row.operation_kinds),
            row.cost,
            row.schema_hash,
        )


class DocumentStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._found: TTLCache[tuple[uuid.UUID, str], Registered] = TTLCache(maxsize=FOUND_SIZE, ttl=FOUND_TTL_SECONDS)
        self._missing: TTLCache[tuple[uuid.UUID, str], bool] = TTLCache(maxsize=MISSING_SIZE, ttl=MISSING_TTL_SECONDS)
        self._automatic: LRUCache[str, str] = LRUCache(maxsize=CACHED_DOCUMENTS)
        self.lookups = 0  # database lookups, for tests

    async def registered(self, tenant_id: uuid.UUID, document_id: str) -> Registered | None:
        """The document ``tenant_id``'s clients may send as ``document_id`` (its own, else the
        platform's), or None."""
        key = (tenant_id, document_id)
        found = self._found.get(key)
        if found is not None:
            return found
        if key in self._missing:
            return None
        self.lookups += 1
        # Two lookups: the platform's documents are in the platform database, and a bridge or
        # silo tenant's own in its home.
        async with self._db.tenant_transaction(tenant_id) as session:
            row = await TrustedDocumentRepository(session, tenant_id).find(document_id)
        if row is None:
            async with self._db.platform_transaction() as session:
                row = await PlatformDocumentRepository(session).find(document_id)
        if row is None:
            self._missing[key] = True
            return None
        found = self._found[key] = Registered.from_row(row)
        return found

    def remember_automatic(self, sha256: str, body: str) -> None:
        if len(body) <= CACHED_DOCUMENT_CHARS:
            self._automatic[sha256] = body

    def automatic(self, sha256: str) -> str | None:
        return self._automatic.get(sha256)

    def forget(self, message: str) -> None:
        """A tenant's documents changed (``message`` is its id), or the platform's."""
        if message == PLATFORM:
            self.clear()
            return
        try:
            tenant_id = uuid.UUID(message)
        except ValueError:
            self.clear()
            return
        for cache in (self._found, self._missing):
            for key in [key for key in cache if key[0] == tenant_id]:
                cache.pop(key, None)

    def clear(self) -> None:
        self._found.clear()
        self._missing.clear()


async def announce_documents(session: AsyncSession, tenant_id: uuid.UUID | None) -> None:
    """Every running server forgets what it knew of these documents when the transaction
    commits (NOTIFY on the control channel)."""
    message = pack(channels.DOCUMENTS, str(tenant_id) if tenant_id else PLATFORM)
    await channels.announce(session, message)
