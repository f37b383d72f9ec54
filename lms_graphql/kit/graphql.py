"""Shared GraphQL machinery: ids, error codes, the per-operation transaction boundary."""

from __future__ import annotations

import contextlib
import functools
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import psycopg
import strawberry
from graphql import DocumentNode, GraphQLError, GraphQLSchema, get_operation_ast, parse, validate
from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult as StrawberryExecutionResult

from lms_graphql.errors import ErrorCode, LmsError

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


def _timed_out(error: GraphQLError) -> bool:
    original = getattr(error.original_error, "orig", None)
    return isinstance(original, psycopg.errors.QueryCanceled)


def coded_errors(errors: list[GraphQLError], request_id: str) -> list[GraphQLError]:
    """Every error gets a contract code; anything unexpected is masked and logged in full."""
    coded: list[GraphQLError] = []
    for error in errors:
        original = error.original_error
        if isinstance(original, LmsError):
            coded.append(_with_code(error, original.message, original.code, original.extensions))
        elif _timed_out(error):
            message = "the request took too long and was stopped; retry, or ask for less"
            coded.append(_with_code(error, message, ErrorCode.QUERY_TOO_COMPLEX, {"retryable": True}))
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


@functools.lru_cache(maxsize=CACHED_DOCUMENTS)
def _parse(query: str, max_tokens: int | None) -> DocumentNode:
    return parse(query, max_tokens=max_tokens)


@functools.lru_cache(maxsize=CACHED_DOCUMENTS)
def _validate(schema: GraphQLSchema, document: DocumentNode, rules: tuple[Any, ...]) -> list[GraphQLError]:
    return validate(schema, document, rules)


class DocumentCache(SchemaExtension):
    """Each distinct (small) document is parsed and validated once: doing both again for the
    same few documents was 5 % of a dashboard's CPU. Goes after QueryLimits, which sets the
    parser's token limit. A document that fails to parse is left to strawberry, which reports
    it (failures are not cached)."""

    def _cacheable(self) -> bool:
        query = self.execution_context.query
        return query is not None and len(query) <= CACHED_DOCUMENT_CHARS

    def on_parse(self) -> Iterator[None]:
        execution = self.execution_context
        if self._cacheable():
            assert execution.query is not None
            with contextlib.suppress(GraphQLError):
                execution.graphql_document = _parse(execution.query, execution.parse_options.get("max_tokens"))
        yield

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        if self._cacheable() and execution.graphql_document is not None:
            rules = tuple(execution.validation_rules)
            # A copy: the cached list is shared by every request with this document.
            execution.pre_execution_errors = list(
                _validate(execution.schema._schema, execution.graphql_document, rules)
            )
        yield


class OperationBoundary(SchemaExtension):
    """Ends the request's transaction with the operation, then codes the errors.

    Committing here, before the response is written, means a client never sees success for
    a write that did not commit. Mutations run each top-level field in a savepoint
    (Context.write), so a failed field leaves the others' work intact.
    """

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        context: Any = self.execution_context.context
        result = self.execution_context.result
        if not isinstance(result, GraphQLExecutionResult | StrawberryExecutionResult):
            return
        tx = getattr(context, "tx", None)
        timed_out = any(_timed_out(error) for error in result.errors or ())
        if tx is not None and not timed_out:
            await self._audit(context, result.errors or [])
        if tx is not None and timed_out:
            await tx.rollback()  # a cancelled statement has aborted the transaction
        elif tx is not None:
            try:
                await tx.commit()
            except Exception as exc:
                await tx.rollback()
                request_id = getattr(context, "request_id", "-")
                result.data = None
                result.errors = [*(result.errors or []), GraphQLError("commit failed", original_error=exc)]
                log.debug("commit failed for request %s", request_id)
        if result.errors:
            result.errors = coded_errors(result.errors, getattr(context, "request_id", "-"))

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Websocket results (subscription events) get the same codes and masking."""
        if getattr(result, "errors", None):
            context: Any = self.execution_context.context
            result.errors = coded_errors(result.errors, getattr(context, "request_id", "-"))
        yield

    async def _audit(self, context: Any, errors: list[GraphQLError]) -> None:
        """Every mutation field, with its outcome, in the request's own transaction."""
        from lms_graphql.audit import mutation_fields, record_mutations

        execution = self.execution_context
        document = execution.graphql_document
        operation = get_operation_ast(document, execution.operation_name) if document is not None else None
        if not mutation_fields(operation):
            return
        try:
            async with context.tx.use() as session:
                await record_mutations(
                    session,
                    context.tenant.id,
                    context.viewer,
                    operation,
                    execution.variables or {},
                    coded_errors(errors, context.request_id),
                    context.request_id,
                )
        except Exception:
            # The commit that follows fails the same way and is reported; log the cause here.
            log.exception("audit of request %s failed", context.request_id)
