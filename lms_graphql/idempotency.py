"""Idempotency-Key on mutations (Stripe's model): one key, one execution, one response.

The same key with the same request replays the stored response; with a different request it
is a CONFLICT; a duplicate arriving while the first still runs waits for it (then replays) or,
past a bound, gets a CONFLICT. Keys are kept per tenant and user for at least 24 hours.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import Row, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql.kit.db import Database
from lms_graphql.models.tables import IDEMPOTENCY_KEYS as KEYS

KEY_FORMAT = re.compile(r"^[\x21-\x7e]{1,255}$")
RETENTION = timedelta(hours=48)
WAIT_SECONDS = 10.0
# A key still "running" after this long belongs to a request whose process died: give it up.
ABANDONED_AFTER = timedelta(minutes=2)


def request_hash(body: dict[str, Any]) -> str:
    canonical = json.dumps(
        {k: body.get(k) for k in ("query", "variables", "operationName")}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class IdempotencyRepository:
    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def claim(self, user_id: uuid.UUID, key: str, digest: str) -> bool:
        statement = (
            insert(KEYS)
            .values(tenant_id=self.tenant_id, user_id=user_id, key=key, request_hash=digest, state="running")
            .on_conflict_do_nothing(index_elements=["tenant_id", "user_id", "key"])
            .returning(KEYS.c.id)
        )
        return (await self.session.execute(statement)).scalar_one_or_none() is not None

    async def find(self, user_id: uuid.UUID, key: str) -> Row[Any] | None:
        statement = select(KEYS).where(KEYS.c.tenant_id == self.tenant_id, KEYS.c.user_id == user_id, KEYS.c.key == key)
        result = await self.session.execute(statement)
        return result.one_or_none()

    async def finish(self, user_id: uuid.UUID, key: str, status: int, body: Any) -> None:
        await self.session.execute(
            update(KEYS)
            .where(KEYS.c.tenant_id == self.tenant_id, KEYS.c.user_id == user_id, KEYS.c.key == key)
            .values(state="done", response_status=status, response_body=body)
        )

    async def forget(self, user_id: uuid.UUID, key: str, *, only_if_abandoned: bool = False) -> None:
        statement = delete(KEYS).where(KEYS.c.tenant_id == self.tenant_id, KEYS.c.user_id == user_id, KEYS.c.key == key)
        if only_if_abandoned:
            statement = statement.where(KEYS.c.state == "running", KEYS.c.created_at < func.now() - ABANDONED_AFTER)
        await self.session.execute(statement)

    async def prune(self) -> None:
        await self.session.execute(
            delete(KEYS).where(KEYS.c.tenant_id == self.tenant_id, KEYS.c.created_at < func.now() - RETENTION)
        )


class Idempotency:
    def __init__(self, db: Database, tenant_id: uuid.UUID, user_id: uuid.UUID, key: str) -> None:
        self._db, self._tenant_id, self._user_id, self._key = db, tenant_id, user_id, key

    async def _run(self, work: Any) -> Any:
        async with self._db.tenant_transaction(self._tenant_id) as session:
            return await work(IdempotencyRepository(session, self._tenant_id))

    async def claim(self, digest: str) -> bool:
        return bool(await self._run(lambda repo: repo.claim(self._user_id, self._key, digest)))

    async def stored(self, digest: str) -> tuple[str, Row[Any] | None]:
        """('conflict' | 'replay' | 'running', row) for a key that was already claimed."""
        deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
        await self._run(lambda repo: repo.forget(self._user_id, self._key, only_if_abandoned=True))
        while True:
            row = await self._run(lambda repo: repo.find(self._user_id, self._key))
            if row is None:
                return "free", None  # the first request failed, or was abandoned: run it
            if row.request_hash != digest:
                return "conflict", row
            if row.state == "done":
                return "replay", row
            if asyncio.get_running_loop().time() > deadline:
                return "running", row
            await asyncio.sleep(0.1)

    async def finish(self, status: int, body: Any) -> None:
        await self._run(lambda repo: repo.finish(self._user_id, self._key, status, body))

    async def forget(self) -> None:
        await self._run(lambda repo: repo.forget(self._user_id, self._key))
