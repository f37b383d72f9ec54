"""What an operation answers: one place decides the HTTP status and the shape of errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import Scope

from lms_graphql.context import Charge
from lms_graphql.errors import UNAVAILABLE_MESSAGE, UNAVAILABLE_RETRY_SECONDS, ErrorCode, unavailable_extensions
from lms_graphql.tenancy.resolution import ResolutionError

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
EXACT = 3  # a media range naming the type itself


@dataclass
class Outcome:
    """An operation's answer, independent of the transport that carries it."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    # Whether execution started: refusals that ran nothing are not stored under an idempotency key.
    executed: bool = False
    # For the access log and the metrics.
    user: str | None = None
    cost: int | None = None
    operation: str | None = None  # the name of the operation that ran, as its document names it
    execution: str | None = None  # "compiled" or "interpreted" once execution started

    @property
    def codes(self) -> list[str]:
        return [str(error.get("extensions", {}).get("code")) for error in self.body.get("errors", ())]

    @property
    def is_request_error(self) -> bool:
        """Nothing was executed (GraphQL over HTTP's "request error": the body did not parse, the
        document was invalid, a variable did not coerce, a limit refused it): no data, and no
        error points at a field."""
        errors = self.body.get("errors", ())
        return bool(errors) and self.body.get("data") is None and not any("path" in error for error in errors)


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


def response_of(outcome: Outcome | list[Outcome], media_type: str = JSON) -> Response:
    """The HTTP response carrying an outcome (a batch: each operation's body, in order).

    As application/graphql-response+json, a request error answers as the GraphQL-over-HTTP
    specification asks: no ``data`` entry and a 4xx status (400 where it would have been 200).
    As application/json, the legacy media type, statuses and bodies stay as they always were."""
    if isinstance(outcome, list):
        return Response(orjson.dumps([item.body for item in outcome]), 200, media_type=JSON)
    body, status = outcome.body, outcome.status
    if media_type == GRAPHQL_RESPONSE and outcome.is_request_error:
        body = {key: value for key, value in body.items() if key != "data"}
        if status < 400:  # the server's own failure before execution is no fault of the request
            status = 500 if ErrorCode.INTERNAL.value in outcome.codes else 400
    return Response(orjson.dumps(body), status, outcome.headers, media_type=media_type)


def negotiated_response(outcome: Outcome | list[Outcome], scope: Scope) -> Response:
    """An outcome in the media type the request's Accept header asks for."""
    return response_of(outcome, negotiated_media_type(Headers(scope=scope).get("accept")))


def negotiated_media_type(accept: str | None) -> str:
    """application/graphql-response+json when the Accept header names it and ranks it no lower
    than application/json; application/json otherwise (no Accept, ``*/*``, or only types we
    do not serve: the specification's legacy default)."""
    if not accept:
        return JSON
    ranks: dict[str, tuple[int, float]] = {}  # media type -> (specificity of the best range, q)
    for item in accept.split(","):
        media_range, _, parameters = item.strip().partition(";")
        media_range = media_range.strip().lower()
        quality = _quality(parameters)
        for candidate in (GRAPHQL_RESPONSE, JSON):
            specificity = _specificity(media_range, candidate)
            if specificity and specificity > ranks.get(candidate, (0, 0.0))[0]:
                ranks[candidate] = (specificity, quality)
    graphql_response, json = ranks.get(GRAPHQL_RESPONSE, (0, 0.0)), ranks.get(JSON, (0, 0.0))
    if graphql_response[0] == EXACT and graphql_response[1] > 0 and graphql_response[1] >= json[1]:
        return GRAPHQL_RESPONSE
    return JSON


def _specificity(media_range: str, media_type: str) -> int:
    if media_range == media_type:
        return EXACT
    if media_range == media_type.split("/")[0] + "/*":
        return 2
    return 1 if media_range == "*/*" else 0


def _quality(parameters: str) -> float:
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                return min(max(float(value.strip()), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0
