"""Which home serves which tenant, as this process knows it, and whether a home may serve.

Filled by the registry's lookups (a resolved request's tenant is known already) and otherwise
from the registry row; forgotten when the registry announces a change of the tenant (a move
switches its row and announces it), so every process follows a move.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from cachetools import TTLCache
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from lms_graphql.kit.homes import POOL, Home, home_for
from lms_graphql.migration_helpers import schema_head

CACHE_SIZE = 50_000
CACHE_TTL_SECONDS = 300.0
_LOOKUP = text("SELECT slug, placement, cluster FROM tenants WHERE id = :id")


class HomeDirectory:
    def __init__(self, platform: AsyncEngine) -> None:
        self._platform = platform
        self._homes: TTLCache[uuid.UUID, Home] = TTLCache(maxsize=CACHE_SIZE, ttl=CACHE_TTL_SECONDS)
        self._ids: TTLCache[str, uuid.UUID] = TTLCache(maxsize=CACHE_SIZE, ttl=CACHE_TTL_SECONDS)
        self._serving: set[Home] = set()  # homes seen at this code's schema revision
        # Counts forgets: a lookup that raced with one does not store what it read before it.
        self._generation = 0
        self.lookups = 0

    def remember(self, tenant_id: uuid.UUID, slug: str, home: Home) -> None:
        self._homes[tenant_id] = home
        self._ids[slug] = tenant_id

    async def home_of(self, tenant_id: uuid.UUID) -> Home:
        """The tenant's home; the pool for an id the registry does not hold (yet: a tenant being
        registered writes its first rows in the same transaction as its registry row)."""
        home = self._homes.get(tenant_id)
        if home is not None:
            return home
        self.lookups += 1
        generation = self._generation
        async with self._platform.connect() as conn:
            row = (await conn.execute(_LOOKUP, {"id": tenant_id})).one_or_none()
        if row is None:
            return POOL
        home = home_for(tenant_id, row.placement, row.cluster)
        if generation == self._generation:
            self.remember(tenant_id, row.slug, home)
        return home

    def forget(self, tenant_id: uuid.UUID) -> None:
        self._homes.pop(tenant_id, None)
        self._generation += 1

    def forget_slug(self, slug: str) -> None:
        tenant_id = self._ids.pop(slug, None)
        if tenant_id is not None:
            self._homes.pop(tenant_id, None)
        self._generation += 1

    def clear(self) -> None:
        """Forget every tenant's home, and which homes were checked (as a new process would)."""
        self._homes.clear()
        self._ids.clear()
        self._serving.clear()
        self._generation += 1

    async def ensure_serving(self, home: Home, engine_for: Callable[[Home], AsyncEngine]) -> None:
        """Refuse a bridge or silo home whose schema is not this code's (`lms-graphql migrate`
        brings it there); the pool's is checked when the server starts."""
        if home.placement == "pool" or home in self._serving:
            return
        from lms_graphql.kit.db import HomeUnavailableError, is_database_unavailable

        wanted = schema_head()
        try:
            async with engine_for(home).connect() as conn:
                revision = text(f'SELECT version_num FROM "{home.schema}".alembic_version')  # noqa: S608 - our name
                found = (await conn.execute(revision)).scalar()
        except Exception as exc:
            if is_database_unavailable(exc):
                raise
            found = None  # no such schema, database or table: never migrated
        if found != wanted:
            raise HomeUnavailableError(f"the tenant's home ({home.describe()}) is at revision {found}, not {wanted}")
        self._serving.add(home)
