"""Process-wide batching of what notification feeds re-read for each message.

A message to all students reaches every subscriber at once; each must re-check its subscriber
and re-read its notification. Batching turns N subscribers' reads into one statement per kind
and tenant; keys asked for in the same batch share one future. Nothing outlives its batch:
every message is checked afresh. (A course's progress subscribers share one channel instead,
which reads once for all of them: fanout.py.)
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Row
from strawberry.dataloader import DataLoader

from lms_graphql.events.repository import FeedBatchRepository
from lms_graphql.kit.db import Database

K = TypeVar("K", bound=Hashable)
Key = tuple[uuid.UUID, K]  # (tenant_id, key)


def _batched(
    db: Database,
    fetch: Callable[[FeedBatchRepository, list[Any]], Awaitable[list[Row[Any]]]],
    key_of: Callable[[Row[Any]], Any],
) -> DataLoader[Key[Any], Row[Any] | None]:
    async def load(keys: Sequence[Key[Any]]) -> list[Row[Any] | None]:
        loader.clear_all()  # the next load starts a new batch, read afresh
        by_tenant: dict[uuid.UUID, set[Any]] = defaultdict(set)
        for tenant_id, key in keys:
            by_tenant[tenant_id].add(key)
        found: dict[Key[Any], Row[Any]] = {}
        for tenant_id, wanted in by_tenant.items():
            async with db.tenant_transaction(tenant_id) as session:
                for row in await fetch(FeedBatchRepository(session, tenant_id), list(wanted)):
                    found[(tenant_id, key_of(row))] = row
        return [found.get(key) for key in keys]

    loader: DataLoader[Key[Any], Row[Any] | None] = DataLoader(load_fn=load)
    return loader


class FeedBatches:
    def __init__(self, db: Database) -> None:
        self.subscriber = _batched(db, lambda repo, ids: repo.subscribers(ids), lambda row: row.id)
        self.notification = _batched(
            db, lambda repo, keys: repo.notifications(keys), lambda row: (row.user_id, row.event_id)
        )
