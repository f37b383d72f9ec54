"""One error shape for REST: RFC 9457 problem details (application/problem+json), carrying the
same ``code`` as GraphQL's ``extensions.code``."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from starlette.responses import JSONResponse

from lms_graphql.errors import UNAVAILABLE_MESSAGE, ErrorCode, LmsError, unavailable_extensions
from lms_graphql.operations.outcome import Outcome

PROBLEM = "application/problem+json"

STATUS_OF: dict[str, int] = {
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.INVALID_TOKEN: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.TENANT_MISMATCH: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.TENANT_NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.COURSE_FULL: 409,
    ErrorCode.TENANT_USER_LIMIT: 409,
    ErrorCode.ATTEMPTS_EXHAUSTED: 409,
    ErrorCode.LOCKED: 423,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.INTERNAL: 500,
}


def problem(status: int, code: str, detail: str, **extensions: Any) -> JSONResponse:
    body = {
        "type": f"urn:lms-graphql:problem:{code.lower().replace('_', '-')}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        **extensions,
    }
    headers = {}
    retry_after = extensions.get("retryAfter")
    if status in (429, 503) and isinstance(retry_after, int):
        headers["Retry-After"] = str(retry_after)
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM)


def unavailable_problem() -> JSONResponse:
    """503, worth retrying: the database is away (or the tenant frozen by a move)."""
    details = {key: value for key, value in unavailable_extensions().items() if key != "code"}
    return problem(503, ErrorCode.INTERNAL.value, UNAVAILABLE_MESSAGE, **details)


def problem_of_error(error: LmsError) -> JSONResponse:
    details = {key: value for key, value in error.extensions.items() if key != "code"}
    return problem(STATUS_OF.get(error.code, 400), error.code.value, error.message, **details)


def problem_of_outcome(outcome: Outcome) -> JSONResponse:
    """A refusal made for GraphQL (the tenant resolution's, say), in the problem shape."""
    errors = outcome.body.get("errors") or [{"message": "error", "extensions": {"code": ErrorCode.INTERNAL.value}}]
    first = errors[0]
    extensions = dict(first.get("extensions") or {})
    code = str(extensions.pop("code", ErrorCode.INTERNAL.value))
    response = problem(outcome.status, code, str(first.get("message", "")), **extensions)
    for name, value in outcome.headers.items():
        response.headers.setdefault(name, value)
    return response
