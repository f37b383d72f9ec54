"""Error codes of the public contract and the one exception type that carries them."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    CONFLICT = "CONFLICT"
    ATTEMPTS_EXHAUSTED = "ATTEMPTS_EXHAUSTED"
    COURSE_FULL = "COURSE_FULL"
    TENANT_USER_LIMIT = "TENANT_USER_LIMIT"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    RATE_LIMITED = "RATE_LIMITED"
    INTERNAL = "INTERNAL"
    TENANT_NOT_RESOLVED = "TENANT_NOT_RESOLVED"
    TENANT_NOT_FOUND = "TENANT_NOT_FOUND"
    TENANT_MISMATCH = "TENANT_MISMATCH"
    INVALID_TOKEN = "INVALID_TOKEN"  # noqa: S105 - an error code, not a secret
    # Persisted documents (README): an id this server does not know (Apollo's code: the
    # client sends the text again), and a document a trusted-only tenant has not registered.
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    DOCUMENT_NOT_TRUSTED = "DOCUMENT_NOT_TRUSTED"
    # Learning paths (README): not open to this learner yet (a prerequisite to complete first).
    LOCKED = "LOCKED"


class LmsError(Exception):
    """A failure a user can act on; its message is written for a person."""

    def __init__(self, code: ErrorCode, message: str, **details: object) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        # graphql-core copies an original error's ``extensions`` into the GraphQL error, so
        # the code survives every path (subscriptions included).
        self.extensions: dict[str, object] = {"code": code.value, **details}


def bad_input(message: str) -> LmsError:
    return LmsError(ErrorCode.BAD_USER_INPUT, message)


def conflict(message: str) -> LmsError:
    return LmsError(ErrorCode.CONFLICT, message)


def not_found(message: str) -> LmsError:
    return LmsError(ErrorCode.NOT_FOUND, message)


UNAVAILABLE_MESSAGE = "the database is unavailable; retry shortly"
# How long a client should wait before retrying when the database is unreachable.
UNAVAILABLE_RETRY_SECONDS = 5


def unavailable_extensions() -> dict[str, object]:
    """A database outage is INTERNAL (HTTP 503), marked as worth retrying."""
    return {"code": ErrorCode.INTERNAL.value, "retryable": True, "retryAfter": UNAVAILABLE_RETRY_SECONDS}
