"""The schema's execution context (every operation runs with it), which lets all subscribers
of one live event that sent the same subscription share one execution.

An event reaches hundreds of subscribers at once, and graphql-core executes the selection for
each of them. For payloads whose fields read nothing but the payload itself (no resolver looks
at the viewer or the context), one execution serves every subscriber of the same document and
variables. The result is kept on the event's payload object, so it lives exactly as long as
the fan-out does.
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from graphql import ExecutionResult
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

T = TypeVar("T")


# On a shared payload: (id of the operation node, variables) -> (operation node, result); the
# node is kept to rule out a reused id().
Executions = dict[tuple[int, bytes], tuple[Any, ExecutionResult]]


class SharedPayloads:
    """The one payload object of each event, while any subscriber still holds it."""

    def __init__(self) -> None:
        self._payloads: weakref.WeakValueDictionary[uuid.UUID, Any] = weakref.WeakValueDictionary()

    def get(self, event_id: uuid.UUID, build: Callable[[Executions], T]) -> T:
        """``build(executions)`` makes the payload, whose ``shared_executions`` must be that dict."""
        payload: T | None = self._payloads.get(event_id)
        if payload is None:
            payload = build({})
            self._payloads[event_id] = payload
        return payload


class LmsExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def execute_operation(self, serially: bool | None = None) -> Any:
        executions = getattr(self.root_value, "shared_executions", None)
        if executions is None:
            return super().execute_operation(serially)
        try:
            variables = orjson.dumps(self.variable_values.coerced, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            return super().execute_operation(serially)
        key = (id(self.operation), variables)
        shared = executions.get(key)
        if shared is not None and shared[0] is self.operation:
            return shared[1]
        result = super().execute_operation(serially)
        if isinstance(result, ExecutionResult) and not result.errors:
            executions[key] = (self.operation, result)
        return result
