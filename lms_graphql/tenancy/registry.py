"""Tenant lookup by slug through an in-process LRU cache with a TTL (seed: 5 000, 5 min).

A change made in this process invalidates the entry at once. Every process (this one too)
also hears of it on the control channel when its transaction commits
(TenantRepository.announce), and forgets the entry then.
"""

from __future__ import annotations

import uuid

from cachetools import TTLCache

from lms_graphql.kit.db import Database
from lms_graphql.kit.homes import home_for
from lms_graphql.tenancy.repository import TenantRepository
from lms_graphql.tenancy.tenant import TenantConfig

CACHE_SIZE = 5_000
CACHE_TTL_SECONDS = 300.0
# Unknown slugs are remembered briefly so a flood of them does not reach the database.
MISS_CACHE_SIZE = 5_000
MISS_TTL_SECONDS = 30.0


class TenantRegistry:
    def __init__(self, db: Database, *, size: int = CACHE_SIZE, ttl: float = CACHE_TTL_SECONDS) -> None:
        self._db = db
        self._found: TTLCache[str, TenantConfig] = TTLCache(maxsize=size, ttl=ttl)
        self._missing: TTLCache[str, bool] = TTLCache(maxsize=MISS_CACHE_SIZE, ttl=MISS_TTL_SECONDS)
        self.lookups = 0  # database lookups, for tests and metrics

    async def get(self, slug: str) -> TenantConfig | None:
        """The tenant with ``slug``, active or not; None when there is none."""
        cached = self._found.get(slug)
        if cached is not None:
            return cached
        if slug in self._missing:
            return None
        self.lookups += 1
        async with self._db.platform_transaction() as session:
            row = await TenantRepository(session).find_by_slug(slug)
        if row is None:
            self._missing[slug] = True
            return None
        config = TenantConfig.from_row(row)
        self._found[slug] = config
        self._db.homes.remember(config.id, slug, home_for(config.id, config.placement, config.cluster))
        return config

    def invalidate(self, slug: str) -> uuid.UUID | None:
        """Forget ``slug`` here; what a remote change notification calls. Returns the tenant's
        id when this process knew it."""
        known = self._found.pop(slug, None)
        self._missing.pop(slug, None)
        self._db.homes.forget_slug(slug)
        return known.id if known is not None else None

    def clear(self) -> None:
        """Forget every tenant here: after changes may have been missed."""
        self._found.clear()
        self._missing.clear()
        self._db.homes.clear()
