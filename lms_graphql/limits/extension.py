"""Refuse expensive operations before they run, and charge their cost to the tenant and user."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

from graphql import FragmentDefinitionNode, get_operation_ast
from strawberry.extensions import SchemaExtension

from lms_graphql.context import Charge
from lms_graphql.errors import ErrorCode, LmsError
from lms_graphql.limits.analysis import NODE_BUDGET, Shape, shape_of
from lms_graphql.limits.charging import RateLimited, charge
from lms_graphql.limits.plans import PlanLimits, limits_for

log = logging.getLogger("lms_graphql.limits")

# What a refused operation (too deep, too many aliases, too costly) is charged, whatever its
# estimate: a tenth of the full dashboard, so a free-plan user can be refused 100 times a
# minute and a tenant 1 000 times. Refused work is parsing, validation and analysis, all
# bounded by the token limit.
REFUSAL_CHARGE = 1_000


def too_complex(message: str, **details: Any) -> LmsError:
    return LmsError(ErrorCode.QUERY_TOO_COMPLEX, message, **details)


class QueryLimits(SchemaExtension):
    def on_parse(self) -> Iterator[None]:
        context: Any = self.execution_context.context
        # graphql-core stops lexing past this many tokens (reported as QUERY_TOO_COMPLEX).
        self.execution_context.parse_options["max_tokens"] = limits_for(context.tenant).max_tokens
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        # The document is valid by now and nothing has run: refusing here stops HTTP requests
        # and websocket operations alike (strawberry reports what on_execute raises).
        if self.execution_context.graphql_document is not None:
            await self._check(self.execution_context)
        yield

    async def _check(self, execution: Any) -> None:
        context: Any = execution.context
        limits = limits_for(context.tenant)
        document = execution.graphql_document
        operation = get_operation_ast(document, execution.operation_name)
        if operation is None:
            return
        context.operation = operation
        context.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        shape = shape_of(execution.schema._schema, execution.query, document, operation, execution.variables or {})
        context.charge = Charge(shape.cost)
        refusal = _refusal(shape, limits)
        if refusal is not None:
            # Charged before refusing: refusals are not free to repeat, and an empty bucket
            # answers RATE_LIMITED first.
            await self._charge(context, limits, REFUSAL_CHARGE, shape.cost)
            raise refusal
        await self._charge(context, limits, max(shape.cost, 1), shape.cost)

    async def _charge(self, context: Any, limits: PlanLimits, charged: int, cost: int) -> None:
        who = str(context.viewer.id) if context.viewer is not None else f"ip:{_client(context)}"
        limiter = context.services.limiter
        try:
            context.charge = await charge(limiter, limits, context.tenant.id, who, charged, cost, context.request_id)
        except RateLimited as exc:
            context.charge = exc.charged
            raise
        viewer = context.viewer
        context.services.usage.spent(context.tenant.id, charged, viewer.id if viewer is not None else None)


def _refusal(shape: Shape, limits: PlanLimits) -> LmsError | None:
    if not shape.complete:
        return too_complex(f"the query has more than {NODE_BUDGET} selections to analyse")
    if shape.depth > limits.max_depth:
        return too_complex(f"the query is {shape.depth} levels deep; at most {limits.max_depth}", depth=shape.depth)
    if shape.aliases > limits.max_aliases:
        return too_complex(f"the query uses {shape.aliases} aliases; at most {limits.max_aliases}")
    if shape.cost > limits.max_cost:
        return too_complex(
            f"the query could return {shape.cost} objects; at most {limits.max_cost}: ask for smaller pages",
            cost=shape.cost,
            maxCost=limits.max_cost,
        )
    return None


def _client(context: Any) -> str:
    client = getattr(context.request, "client", None)
    return client.host if client is not None else "unknown"
