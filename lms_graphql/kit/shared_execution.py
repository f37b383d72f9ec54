"""The schema's execution context (every operation runs with it), which lets all subscribers
of one live event that sent the same subscription share one execution.

An event reaches hundreds of subscribers at once, and graphql-core executes the selection for
each of them. For payloads whose fields read nothing but the payload itself (no resolver looks
at the viewer or the context), one execution serves every subscriber of the same document and
variables. The result is kept on the event's payload object, so it lives exactly as long as
the fan-out does.

A subscription's executor is also left on its context (``subscription_executor``): a feed can
then execute each event itself, once per view, and write the result to every subscriber of
that view without graphql-core's per-subscriber stream (events/graphql.py).
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import orjson
from graphql import ExecutionResult, OperationType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

T = TypeVar("T")

SUBSCRIPTION_EXECUTOR = "subscription_executor"  # the key in a context's ``extra``


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
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        extra = getattr(self.context_value, "extra", None)
        if self.operation.operation is OperationType.SUBSCRIPTION and isinstance(extra, dict):
            extra[SUBSCRIPTION_EXECUTOR] = self

    def execute_operation(self, serially: bool | None = None) -> Any:
        executions = getattr(self.root_value, "shared_executions", None)
        if executions is None:
            return super().execute_operation(serially)
        variables = _variables(self)
        if variables is None:
            return super().execute_operation(serially)
        key = (id(self.operation), variables)
        shared = executions.get(key)
        if shared is not None and shared[0] is self.operation:
            return shared[1]
        result = super().execute_operation(serially)
        if isinstance(result, ExecutionResult) and not result.errors:
            executions[key] = (self.operation, result)
        return result


def _variables(executor: LmsExecutionContext) -> bytes | None:
    try:
        return orjson.dumps(executor.variable_values.coerced, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return None


def subscription_executor(context: Any) -> LmsExecutionContext | None:
    """The executor graphql-core built for the subscription running with ``context``."""
    extra = getattr(context, "extra", None)
    executor = extra.get(SUBSCRIPTION_EXECUTOR) if isinstance(extra, dict) else None
    return executor if isinstance(executor, LmsExecutionContext) else None


def view_key(executor: LmsExecutionContext) -> Hashable | None:
    """Subscriptions with equal keys execute every event alike: the same operation node (the
    document cache hands one node per document) and the same variables. None: not comparable."""
    variables = _variables(executor)
    return None if variables is None else (id(executor.operation), variables)


async def execute_event(executor: LmsExecutionContext, payload: Any) -> ExecutionResult:
    """One event of the subscription executed as graphql-core's subscription stream does."""
    result = executor.build_per_event_executor(payload).execute_operation(False)
    if executor.is_awaitable(result):
        result = await result
    assert isinstance(result, ExecutionResult)
    return result
