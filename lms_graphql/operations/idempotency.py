"""Idempotency-Key on mutations (Stripe's model): one key, one execution, one response.

The same key with the same request replays the stored response; with a different request it
is a CONFLICT; a duplicate arriving while the first still runs waits for it (then replays) or,
past the statement timeout, gets a CONFLICT. Keys are kept per tenant and user for 48 hours.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from typing import Any

import orjson
import psycopg
from sqlalchemy.exc import DBAPIError

from lms_graphql.audit.repository import IdempotencyRepository
from lms_graphql.errors import ErrorCode
from lms_graphql.kit.transaction import RequestTransaction
from lms_graphql.operations.outcome import Outcome, refusal

KEY_FORMAT = re.compile(r"^[\x21-\x7e]{1,255}$")


def request_hash(body: dict[str, Any]) -> str:
    canonical = json.dumps(
        {k: body.get(k) for k in ("query", "variables", "operationName")}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class IdempotentOperation:
    """One mutation sent with an Idempotency-Key, claimed and finished inside the operation's own
    transaction: the claim commits with the operation's writes and the stored answer, or not at
    all. A duplicate sent while the first runs waits on the claim's row lock until the first
    commits (then replays it) or rolls back (then runs itself), within the statement timeout."""

    def __init__(self, tx: RequestTransaction, tenant_id: uuid.UUID, user_id: uuid.UUID, key: str, digest: str):
        self._tx, self._tenant_id, self._user_id, self._key, self._digest = tx, tenant_id, user_id, key, digest

    async def claim(self) -> Outcome | None:
        """None when this request may run; otherwise the answer to give instead."""
        async with self._tx.use() as session:
            keys = IdempotencyRepository(session, self._tenant_id)
            try:
                if await keys.claim(self._user_id, self._key, self._digest):
                    return None
                row = await keys.find(self._user_id, self._key)
                if row is not None and row.state != "done":
                    # Left "running" by a version that claimed outside the operation: nothing
                    # of that request committed with it, so it may run now.
                    await keys.forget(self._user_id, self._key)
                    if await keys.claim(self._user_id, self._key, self._digest):
                        return None
                    row = await keys.find(self._user_id, self._key)
            except DBAPIError as exc:
                if isinstance(exc.orig, psycopg.errors.QueryCanceled):
                    message = "a request with this Idempotency-Key is still running"
                    return refusal(409, message, ErrorCode.CONFLICT, retryable=True)
                raise
        if row is None or row.request_hash != self._digest:
            return refusal(409, "this Idempotency-Key was used for a different request", ErrorCode.CONFLICT)
        # orjson keeps the stored text's key order, so the answer is the first one's, byte for byte.
        return Outcome(row.response_status, orjson.loads(row.response_body), {"Idempotent-Replayed": "true"})

    async def finish(self, outcome: Outcome) -> None:
        """Store the answer with the operation's writes (before its commit). A refusal that ran
        nothing is not stored: the same key may be sent again."""
        async with self._tx.use() as session:
            keys = IdempotencyRepository(session, self._tenant_id)
            if outcome.executed and outcome.status not in (429, 503):
                await keys.finish(self._user_id, self._key, outcome.status, orjson.dumps(outcome.body).decode())
            else:
                await keys.forget(self._user_id, self._key)
