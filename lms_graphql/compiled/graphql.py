"""The schema extension that answers compiled reads: after the document was parsed, validated,
costed and charged (QueryLimits, before it in the list), and before strawberry executes
anything. It answers only queries over HTTP from a signed-in user; the statement runs in the
operation's own transaction (RLS, the tenant binding, the statement timeout), and its JSON
text becomes ``data`` as an orjson Fragment, written into the response as it is.

Whatever it does not answer (not compilable, arguments the resolvers would refuse, a value
it cannot write as they would) strawberry executes as always; nothing is written to the
database before that, so the ordinary path starts from the same state.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
from graphql import ExecutionResult, GraphQLError, OperationType
from strawberry.extensions import SchemaExtension

from lms_graphql.compiled.execution import Operation, prepare, run
from lms_graphql.compiled.planner import Plans
from lms_graphql.kit.graphql import CACHED_DOCUMENT_CHARS

log = logging.getLogger("lms_graphql.compiled")

COMPILED, INTERPRETED = "compiled", "interpreted"
EXECUTION = "execution"  # the key in Context.extra saying which path answered

plans = Plans()


class CompiledReads(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context: Any = execution.context
        if _eligible(execution, context):
            result = await _answer(execution, context)
            if result is not None:
                execution.result = result
                context.extra[EXECUTION] = COMPILED
        yield


def _eligible(execution: Any, context: Any) -> bool:
    operation = context.operation  # set by QueryLimits once the document was valid
    query = execution.query
    return (
        context.services.settings.compiled_reads
        and context.viewer is not None
        and operation is not None
        and operation.operation == OperationType.QUERY
        and context.request.scope.get("type") == "http"
        and query is not None
        and len(query) <= CACHED_DOCUMENT_CHARS
    )


async def _answer(execution: Any, context: Any) -> ExecutionResult | None:
    operation = Operation(
        execution.schema._schema, execution.query, context.operation, context.fragments, execution.variables
    )
    try:
        prepared = prepare(plans, operation, context.viewer, context.tenant.id)
    except Exception:
        # Nothing has run: the ordinary path answers, and this is a bug to fix.
        log.exception("request %s: compiling the query failed", context.request_id)
        return None
    if prepared is None:
        return None
    try:
        async with context.tx.use() as session:
            text = await run(session, prepared)
    except Exception as exc:
        # The statement failed (its timeout, the database going away): the transaction is
        # over, as it would be for a resolver's statement. The runner codes the error.
        nodes = [prepared.first_field] if prepared.first_field is not None else None
        path = [prepared.first_key] if prepared.first_key is not None else None
        error = GraphQLError(str(exc), nodes=nodes, path=path, original_error=exc)
        return ExecutionResult(data=None, errors=[error])
    if text is None:
        return None
    # The runner puts data into the response as it is; orjson writes a Fragment verbatim.
    data: Any = orjson.Fragment(text)
    return ExecutionResult(data=data, errors=None)
