"""A REST write, run as a GraphQL mutation is: in the call's transaction, its work in a savepoint,
recorded in the audit log (the same action names as the mutations), with an Idempotency-Key
claimed and its answer stored inside that transaction (operations/idempotency.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lms_graphql.audit.service import record
from lms_graphql.context import Context
from lms_graphql.errors import ErrorCode, LmsError
from lms_graphql.operations.idempotency import KEY_FORMAT, IdempotentOperation
from lms_graphql.operations.middleware import state_of
from lms_graphql.operations.outcome import Outcome
from lms_graphql.rest.problems import PROBLEM, problem_of_error, problem_of_outcome
from lms_graphql.rest.runner import operation

Work = Callable[[Context], Awaitable[BaseModel]]


async def write(request: Request, action: str, work: Work, *, body: Any = None, status: int = 200) -> Response:
    """``work`` answering a body, its changes made in savepoints (``context.write()``) as a
    mutation's resolver makes them; ``action`` names it in the audit log; ``body`` is what the
    request sent (with the method and path, what an Idempotency-Key's answer is kept for)."""
    key = request.headers.get("idempotency-key")
    if key is not None and not KEY_FORMAT.match(key):
        raise LmsError(ErrorCode.BAD_USER_INPUT, "Idempotency-Key must be 1-255 printable characters")

    async def run(context: Context) -> Response:
        viewer = context.require_viewer()
        once = (
            IdempotentOperation(context.tx, context.tenant.id, viewer.id, key, _digest(request, body)) if key else None
        )
        if once is not None and (answered := await once.claim()) is not None:
            if "errors" in answered.body:  # a refusal of the claim itself (another request's key)
                return problem_of_outcome(answered)
            media = PROBLEM if answered.status >= 400 else "application/json"
            return JSONResponse(answered.body, answered.status, headers=answered.headers, media_type=media)
        details: dict[str, Any] = {"transport": "rest", "requestId": state_of(request.scope).request_id}
        try:
            answer = await work(context)
        except LmsError as exc:
            refused = problem_of_error(exc)
            await _audit(context, action, {**details, "outcome": exc.code.value})
            if once is not None:
                await once.finish(Outcome(refused.status_code, orjson.loads(refused.body), executed=True))
            return refused
        payload = answer.model_dump(mode="json", by_alias=True)
        await _audit(context, action, details)
        if once is not None:
            await once.finish(Outcome(status, payload, executed=True))
        return JSONResponse(payload, status_code=status)

    return await operation(request, run)


def _digest(request: Request, body: Any) -> str:
    """What an Idempotency-Key's answer is kept for: the method, the path and the body."""
    request_identity = {"method": request.method, "path": request.url.path, "body": body}
    return hashlib.sha256(orjson.dumps(request_identity, option=orjson.OPT_SORT_KEYS)).hexdigest()


async def _audit(context: Context, action: str, details: dict[str, Any]) -> None:
    async with context.tx.use() as session:
        await record(session, context.tenant.id, context.viewer, action, details)
