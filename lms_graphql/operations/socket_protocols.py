"""The two websocket protocols (graphql-transport-ws and the legacy graphql-ws), each
message checked before strawberry sees it, each operation run by answer_or_context
(operations/sockets.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, cast

from starlette.websockets import WebSocket
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
    _OperationStreamClosed,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

from lms_graphql.context import Context
from lms_graphql.documents.requests import Requested, with_document
from lms_graphql.errors import UNAVAILABLE_MESSAGE, ErrorCode, LmsError, unavailable_extensions
from lms_graphql.kit.db import is_database_unavailable
from lms_graphql.kit.graphql import coded_errors
from lms_graphql.observability import metrics
from lms_graphql.operations.authorise import TokenExpired
from lms_graphql.operations.frames import LiveFrames, attach
from lms_graphql.operations.outcome import Outcome
from lms_graphql.operations.sockets import (
    EXPIRED_CLOSE_CODE,
    INVALID_MESSAGE_CLOSE_CODE,
    REVOKED_CLOSE_CODE,
    TOO_MANY_INITS_CLOSE_CODE,
    answer_or_context,
)
from lms_graphql.tenancy.resolution import ResolutionError

log = logging.getLogger("lms_graphql.sockets")


async def _with_document(socket: Context, message: Any, kinds: tuple[str, ...]) -> tuple[Any, Requested | None]:
    try:
        return await with_document(socket.services.documents, socket.tenant.id, message, kinds)
    except LmsError:
        raise
    except Exception as exc:
        if is_database_unavailable(exc):  # looking the id up
            details = {k: v for k, v in unavailable_extensions().items() if k != "code"}
            raise LmsError(ErrorCode.INTERNAL, UNAVAILABLE_MESSAGE, **details) from exc
        raise


def _note(requested: dict[str, Requested], message: Any, kind: str, named: Requested | None) -> None:
    """What this operation id names now: a message without a document id clears what an earlier
    message of the same id named (one strawberry refused or cancelled before it ran)."""
    if message.get("type") != kind:
        return
    if named is None:
        requested.pop(message["id"], None)
    else:
        requested[message["id"]] = named


def _remember(socket: Context, requested: Requested | None, step: Outcome | Context) -> None:
    """An automatic persisted query's text, once its query or mutation ran (a subscription's
    document is validated later, when it streams: its text is not kept)."""
    if requested is not None:
        requested.remember_if_it_ran(socket.services.documents, isinstance(step, Outcome) and step.executed)


def _payload_problem(payload: Any) -> str | None:
    if not isinstance(payload, dict):
        return "the payload must be a JSON object"
    if not isinstance(payload.get("query"), str):
        return "the payload must carry a 'query' string"
    for name, kind in (("variables", dict), ("operationName", str), ("extensions", dict)):
        if payload.get(name) is not None and not isinstance(payload[name], kind):
            return f"'{name}' has the wrong type"
    return None


def _message_problem(message: Any, operation_types: tuple[str, ...]) -> str | None:
    """Why a client message cannot be handled (strawberry assumes its shape)."""
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return "messages must be JSON objects with a 'type'"
    kind = message["type"]
    if kind in (*operation_types, "complete", "stop") and not (isinstance(message.get("id"), str) and message["id"]):
        return "the message's 'id' must be a non-empty string"
    if kind in operation_types:
        return _payload_problem(message.get("payload"))
    return None


def _close_code(error: ResolutionError) -> int:
    return EXPIRED_CLOSE_CODE if isinstance(error, TokenExpired) else REVOKED_CLOSE_CODE


def _starlette(adapter: Any) -> WebSocket:
    """The Starlette websocket under strawberry's adapter: live messages are written to it directly."""
    websocket: WebSocket = adapter.ws
    return websocket


def _coded(result: ExecutionResult, request_id: str) -> ExecutionResult:
    if result.errors:
        result.errors = coded_errors(result.errors, request_id)
    return result


class TransportWsHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, each subscribe message authorised and run like a request."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.context.close_socket = self.close_revoked
        self.requested: dict[str, Requested] = {}  # documents named by id, until their operation starts

    async def close_revoked(self, reason: str, code: int = REVOKED_CLOSE_CODE) -> None:
        with contextlib.suppress(Exception):
            await self.websocket.close(code=code, reason=reason[:120])

    async def handle_message(self, message: Any) -> None:
        try:
            message, requested = await _with_document(self.context, message, ("subscribe",))
        except LmsError as exc:
            error = {"message": exc.message, "extensions": exc.extensions}
            await self.send_message(cast(Any, {"id": message.get("id"), "type": "error", "payload": [error]}))
            return
        problem = _message_problem(message, ("subscribe",))
        if problem:
            await self.handle_invalid_message(problem)
            return
        _note(self.requested, message, "subscribe", requested)
        await super().handle_message(message)

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        try:
            requested = self.requested.pop(operation.id, None)
            step = await answer_or_context(
                self.view,
                self.context,
                operation.query,
                operation.variables,
                operation.operation_name,
                requested.trusted if requested is not None else None,
            )
            _remember(self.context, requested, step)
        except ResolutionError as exc:
            self.operations.pop(operation.id, None)
            await self.close_revoked(exc.message, _close_code(exc))
            return
        if isinstance(step, Outcome):
            await self._send_outcome(operation, step)
            return
        attach(step, LiveFrames(_starlette(self.websocket), operation.id, False, step.request_id))
        try:
            result_source = await self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=step,
                root_value=self.root_value,
                operation_name=operation.operation_name,
            )
            with metrics.subscription_streaming():
                async with aclosing(result_source):
                    await self._send_result_stream(operation, result_source)
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except _OperationStreamClosed:
            return
        except Exception as error:
            log.error("subscription of request %s failed", self.context.request_id, exc_info=error)
            with contextlib.suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)

    async def _send_outcome(self, operation: Operation[Context, None], outcome: Outcome) -> None:
        errors = outcome.body.get("errors")
        if errors and not outcome.executed:
            await operation.send_operation_message(cast(Any, {"id": operation.id, "type": "error", "payload": errors}))
            return
        await operation.send_operation_message(cast(Any, {"id": operation.id, "type": "next", "payload": outcome.body}))
        await operation.send_operation_message({"id": operation.id, "type": "complete"})

    async def _send_result_stream(self, operation: Operation[Context, None], result_source: Any) -> None:
        first = True
        async for result in result_source:
            if first and isinstance(result, PreExecutionError):
                await self._handle_pre_execution_error(operation, result)
                return
            if not isinstance(result, ExecutionResult):
                await self._reject_incremental_delivery(operation)
                return
            await operation.send_next(_coded(result, self.context.request_id))
            first = False

    async def _handle_pre_execution_error(self, operation: Operation[Context, None], result: PreExecutionError) -> None:
        assert result.errors
        if self._get_pre_execution_close_reason(result.errors[0]):
            await super()._handle_pre_execution_error(operation, result)
            return
        await operation.send_initial_errors(coded_errors(result.errors, self.context.request_id))


class LegacyWsHandler(BaseGraphQLWSHandler[Context, None]):
    """The legacy graphql-ws protocol (subscriptions-transport-ws), authorised the same way."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.context.close_socket = self.close_revoked
        self.requested: dict[str, Requested] = {}  # documents named by id, until their operation starts

    async def close_revoked(self, reason: str, code: int = REVOKED_CLOSE_CODE) -> None:
        with contextlib.suppress(Exception):
            payload: dict[str, object] = {"message": reason, "code": "FORBIDDEN"}
            await self.send_message({"type": "connection_error", "payload": payload})
        with contextlib.suppress(Exception):
            await self.websocket.close(code=code, reason=reason[:120])

    async def handle_message(self, message: Any) -> None:
        try:
            message, requested = await _with_document(self.context, message, ("start",))
        except LmsError as exc:
            error = {"message": exc.message, "extensions": exc.extensions}
            await self.send_message(cast(Any, {"type": "error", "id": message.get("id"), "payload": error}))
            return
        problem = _message_problem(message, ("start",))
        if problem:
            operation_id = message.get("id") if isinstance(message, dict) else None
            if isinstance(operation_id, str) and operation_id:
                await self.send_message(
                    cast(Any, {"type": "error", "id": operation_id, "payload": {"message": problem}})
                )
            else:
                await self.close_revoked(problem, INVALID_MESSAGE_CLOSE_CODE)
            return
        if message["type"] == "connection_init" and self.connection_acknowledged:
            await self.close_revoked("too many initialisation requests", TOO_MANY_INITS_CLOSE_CODE)
            return
        _note(self.requested, message, "start", requested)
        await super().handle_message(message)

    async def handle_async_results(
        self, operation_id: str, query: str, operation_name: str | None, variables: dict[str, object] | None
    ) -> None:
        try:
            requested = self.requested.pop(operation_id, None)
            trusted = requested.trusted if requested is not None else None
            step = await answer_or_context(self.view, self.context, query, variables, operation_name, trusted)
            _remember(self.context, requested, step)
        except ResolutionError as exc:
            self.tasks.pop(operation_id, None)
            await self.close_revoked(exc.message, _close_code(exc))
            return
        if isinstance(step, Outcome):
            try:
                await self._send_outcome(operation_id, step)
            finally:
                self.tasks.pop(operation_id, None)
            return
        await self._stream(operation_id, query, operation_name, variables, step)

    async def _send_outcome(self, operation_id: str, outcome: Outcome) -> None:
        errors = outcome.body.get("errors")
        if errors and not outcome.executed:
            await self.send_message({"type": "error", "id": operation_id, "payload": errors[0]})
            return
        await self.send_message(cast(Any, {"type": "data", "id": operation_id, "payload": outcome.body}))
        await self.send_message({"type": "complete", "id": operation_id})

    async def _stream(
        self,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
        context: Context,
    ) -> None:
        attach(context, LiveFrames(_starlette(self.websocket), operation_id, True, context.request_id))
        try:
            result_source = await self.schema.subscribe(
                query=query,
                variable_values=variables,
                operation_name=operation_name,
                context_value=context,
                root_value=self.root_value,
            )
            self.subscriptions[operation_id] = result_source
            with metrics.subscription_streaming():
                first = True
                async for result in result_source:
                    if first and isinstance(result, PreExecutionError):
                        assert result.errors
                        (error,) = coded_errors(result.errors[:1], self.context.request_id)
                        await self.send_message({"type": "error", "id": operation_id, "payload": error.formatted})
                        return
                    await self.send_data_message(_coded(result, self.context.request_id), operation_id)
                    first = False
            await self.send_message({"type": "complete", "id": operation_id})
        except asyncio.CancelledError:
            await self.send_message({"type": "complete", "id": operation_id})
        finally:
            self.subscriptions.pop(operation_id, None)
            self.tasks.pop(operation_id, None)
