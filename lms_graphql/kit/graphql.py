"""Shared GraphQL machinery: ids, error codes, the document caches."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import strawberry
from cachetools import LRUCache
from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    get_operation_ast,
    parse,
    print_schema,
    validate,
)
from strawberry.extensions import SchemaExtension

from lms_graphql.errors import UNAVAILABLE_MESSAGE, ErrorCode, LmsError, unavailable_extensions
from lms_graphql.kit.db import is_database_unavailable

log = logging.getLogger("lms_graphql.graphql")


def parse_id(value: strawberry.ID | str) -> uuid.UUID | None:
    """A malformed id is simply one that matches nothing: callers answer NOT_FOUND."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def require_id(value: strawberry.ID | str, what: str) -> uuid.UUID:
    parsed = parse_id(value)
    if parsed is None:
        raise LmsError(ErrorCode.NOT_FOUND, f"{what} not found")
    return parsed


def _with_code(
    error: GraphQLError, message: str, code: ErrorCode, extensions: dict[str, object] | None = None
) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions={**(extensions or {}), "code": code.value},
    )


def timed_out(error: GraphQLError) -> bool:
    original = error.original_error
    return isinstance(getattr(original, "orig", original), psycopg.errors.QueryCanceled)


def unavailable(error: GraphQLError) -> bool:
    return is_database_unavailable(error.original_error)


def coded_errors(errors: list[GraphQLError], request_id: str) -> list[GraphQLError]:
    """Every error gets a contract code; anything unexpected is masked and logged in full."""
    coded: list[GraphQLError] = []
    for error in errors:
        original = error.original_error
        if isinstance(original, LmsError):
            coded.append(_with_code(error, original.message, original.code, original.extensions))
        elif timed_out(error):
            message = "the request took too long and was stopped; retry, or ask for less"
            coded.append(_with_code(error, message, ErrorCode.QUERY_TOO_COMPLEX, {"retryable": True}))
        elif unavailable(error):
            log.warning("database unavailable in request %s: %s", request_id, type(original).__name__)
            coded.append(_with_code(error, UNAVAILABLE_MESSAGE, ErrorCode.INTERNAL, unavailable_extensions()))
        elif original is None and "tokens. Parsing aborted" in error.message:
            coded.append(_with_code(error, error.message, ErrorCode.QUERY_TOO_COMPLEX))
        elif original is None or isinstance(original, GraphQLError):
            # Syntax, validation and variable coercion: the document itself is wrong.
            coded.append(_with_code(error, error.message, ErrorCode.BAD_USER_INPUT))
        else:
            log.error("unexpected error in request %s", request_id, exc_info=original)
            message = f"Internal error. Quote request id {request_id} when reporting it."
            coded.append(_with_code(error, message, ErrorCode.INTERNAL))
    return coded


# Only documents up to this size are kept: a query's tokens are limited, not its string
# literals, and 512 one-megabyte documents must not stay in memory.
CACHED_DOCUMENT_CHARS = 16_384
CACHED_DOCUMENTS = 512


# Touched only from the event loop's thread; the work itself may run in a worker thread.
_parsed: LRUCache[tuple[str, int | None], DocumentNode] = LRUCache(maxsize=CACHED_DOCUMENTS)
# By text and token limit, as the parsed documents are: hashing a DocumentNode walks all of it.
_validated: LRUCache[tuple[GraphQLSchema, str, int | None, tuple[Any, ...]], list[GraphQLError]] = LRUCache(
    maxsize=CACHED_DOCUMENTS
)


# The key in an operation's Context.extra holding the hash of the schema its document was
# validated against when it was registered (documents/): it is not validated again.
VALIDATED_AGAINST = "validated_against"


@functools.cache
def schema_hash(schema: GraphQLSchema) -> str:
    """Names a schema: a document registered against another one is validated again."""
    return hashlib.sha256(print_schema(schema).encode()).hexdigest()


async def parsed(query: str, max_tokens: int | None) -> DocumentNode:
    """The parsed document, from the cache or parsed in a worker thread (a document at the token
    limit takes tens of milliseconds). Raises GraphQLError when it does not parse."""
    cacheable = len(query) <= CACHED_DOCUMENT_CHARS
    document = _parsed.get((query, max_tokens)) if cacheable else None
    if document is None:
        document = await asyncio.to_thread(parse, query, max_tokens=max_tokens)
        if cacheable:
            _parsed[(query, max_tokens)] = document
    return document


async def operation_type(query: str, operation_name: str | None, max_tokens: int) -> OperationType | None:
    """What kind of operation a request asks for; None when its document does not parse or has
    no operation of that name (execution reports both). A document with several operations
    and no operationName is refused (GraphQL over HTTP), rather than running the first."""
    try:
        document = await parsed(query, max_tokens)
    except GraphQLError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None and len(operations) > 1:
        raise LmsError(ErrorCode.BAD_USER_INPUT, "the document has several operations: name one in operationName")
    operation = get_operation_ast(document, operation_name)
    return operation.operation if operation is not None else None


class DocumentCache(SchemaExtension):
    """Each distinct (small) document is parsed and validated once: doing both again for the
    same few documents was 5 % of a dashboard's CPU. A document not seen before is parsed and
    validated in a worker thread: for a hostile document at the token limit that is up to a few
    hundred milliseconds, which must not stall every other request on the event loop. Goes after
    QueryLimits, which sets the parser's token limit. A document that fails to parse is left to
    strawberry, which reports it (failures are not cached)."""

    def _cacheable(self) -> bool:
        query = self.execution_context.query
        return query is not None and len(query) <= CACHED_DOCUMENT_CHARS

    async def on_parse(self) -> AsyncIterator[None]:
        execution = self.execution_context
        if execution.query is not None and execution.graphql_document is None:
            with contextlib.suppress(GraphQLError):
                execution.graphql_document = await parsed(execution.query, execution.parse_options.get("max_tokens"))
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        execution = self.execution_context
        document = execution.graphql_document
        extra = getattr(execution.context, "extra", None) or {}
        if document is not None and extra.get(VALIDATED_AGAINST) == schema_hash(execution.schema._schema):
            execution.pre_execution_errors = []
        elif document is not None and execution.validation_rules:
            schema, rules = execution.schema._schema, tuple(execution.validation_rules)
            # The document is the one parsed from this text (on_parse), or the text is too long
            # to be cached at all.
            key = (schema, execution.query or "", execution.parse_options.get("max_tokens"), rules)
            cacheable = self._cacheable()
            errors = _validated.get(key) if cacheable else None
            if errors is None:
                errors = await asyncio.to_thread(validate, schema, document, rules)
                if cacheable:
                    _validated[key] = errors
            # A copy: the cached list is shared by every request with this document.
            execution.pre_execution_errors = list(errors)
        yield
