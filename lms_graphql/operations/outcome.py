"""What an operation answers: one place decides the HTTP status and the shape of errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.responses import Response

from lms_graphql.context import Charge
from lms_graphql.errors import UNAVAILABLE_MESSAGE, UNAVAILABLE_RETRY_SECONDS, ErrorCode, unavailable_extensions
from lms_graphql.tenancy.resolution import ResolutionError


@dataclass
class Outcome:
    """An operation's answer, independent of the transport that carries it."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    # Whether execution started: refusals that ran nothing are not stored under an idempotency key.
    executed: bool = False
    # For the access log.
    user: str | None = None
    cost: int | None = None

    @property
    def codes(self) -> list[str]:
        return [str(error.get("extensions", {}).get("code")) for error in self.body.get("errors", ())]


def error_body(message: str, code: ErrorCode, **extensions: object) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {**extensions, "code": code.value}}]}


def refusal(status: int, message: str, code: ErrorCode = ErrorCode.BAD_USER_INPUT, **extensions: object) -> Outcome:
    """An answer given before anything ran."""
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    retry_after = extensions.get("retryAfter")
    if status in (429, 503) and isinstance(retry_after, int):
        headers["Retry-After"] = str(retry_after)
    return Outcome(status, error_body(message, code, **extensions), headers)


def unavailable() -> Outcome:
    details = {k: v for k, v in unavailable_extensions().items() if k != "code"}
    return refusal(503, UNAVAILABLE_MESSAGE, ErrorCode.INTERNAL, **details)


def internal(request_id: str) -> Outcome:
    return refusal(500, f"Internal error. Quote request id {request_id} when reporting it.", ErrorCode.INTERNAL)


def executed(data: Any, errors: list[GraphQLError], charge: Charge | None, *, unavailable: bool = False) -> Outcome:
    """The answer of an operation that reached execution; errors are already coded."""
    body: dict[str, Any] = {"data": data}
    if errors:
        body["errors"] = [error.formatted for error in errors]
    headers: dict[str, str] = {}
    if charge is not None:
        headers["X-Query-Cost"] = str(charge.cost)
        if charge.remaining is not None:
            headers["X-RateLimit-Remaining"] = str(charge.remaining)
    status = 200
    codes = {(error.extensions or {}).get("code") for error in errors}
    if unavailable:
        status = 503
        headers["Retry-After"] = str(UNAVAILABLE_RETRY_SECONDS)
    elif data is None and ErrorCode.RATE_LIMITED.value in codes:
        status = 429
        retry_after = charge.retry_after if charge is not None else None
        headers["Retry-After"] = str(retry_after or 1)
    return Outcome(status, body, headers, executed=True)


def resolution_refusal(error: ResolutionError) -> Outcome:
    """The answer to a request whose tenant or token did not hold (400, 401, 403 or 404)."""
    return refusal(error.status, error.message, error.code)


def response_of(outcome: Outcome | list[Outcome]) -> Response:
    """The HTTP response carrying an outcome (a batch: each operation's body, in order)."""
    if isinstance(outcome, list):
        return Response(orjson.dumps([item.body for item in outcome]), 200, media_type="application/json")
    return Response(orjson.dumps(outcome.body), outcome.status, outcome.headers, media_type="application/json")
