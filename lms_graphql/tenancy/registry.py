"""Tenant lookup by slug through an in-process LRU cache with a TTL (seed: 5 000, 5 min).

A change made in this process invalidates the entry at once. Other processes learn of it
through ``ChangePublisher``: the seam the broadcast channel plugs into; until it is attached
they converge within the TTL.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from cachetools import TTLCache

from lms_graphql.kit.db import Database
from lms_graphql.tenancy.repository import TenantRepository
from lms_graphql.tenancy.tenant import TenantConfig

ChangePublisher = Callable[[str], Awaitable[None]]

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
        self._publishers: list[ChangePublisher] = []
        self.lookups = 0  # database lookups, for tests and metrics

    def add_change_publisher(self, publisher: ChangePublisher) -> None:
        self._publishers.append(publisher)

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
        return config

    def invalidate(self, slug: str) -> None:
        """Forget ``slug`` here; what a remote change notification calls."""
        self._found.pop(slug, None)
        self._missing.pop(slug, None)

    def clear(self) -> None:
        """Forget every tenant here: after changes may have been missed."""
        self._found.clear()
        self._missing.clear()

    async def changed(self, slug: str) -> None:
        """A tenant was created or changed by this process: forget it here and tell the others."""
        self.invalidate(slug)
        for publish in self._publishers:
            await publish(slug)
