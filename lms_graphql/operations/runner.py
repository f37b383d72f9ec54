"""Running one GraphQL operation, the same way whichever transport carried it.

resolve (the transport did) -> authorise against the user row and tenant as they are now ->
one tenant-bound transaction with the plan's statement timeout and the tenant's share of the
pool -> limits and charge (QueryLimits) -> execute -> audit and idempotency record in the same
transaction -> commit, checked -> the answer. HTTP requests and websocket queries and
mutations call ``OperationRunner.run``; subscriptions get their per-operation context from
``subscription_context`` and stream through short transactions of their own.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError, OperationType
from starlette.requests import HTTPConnection
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType as StrawberryOperationType

from lms_graphql.audit.service import record_mutations
from lms_graphql.compiled.graphql import EXECUTION, INTERPRETED
from lms_graphql.context import Context, Services
from lms_graphql.documents.policy import refuse_untrusted
from lms_graphql.documents.store import Registered
from lms_graphql.errors import ErrorCode, LmsError
from lms_graphql.kit.db import is_database_unavailable
from lms_graphql.kit.graphql import VALIDATED_AGAINST, coded_errors, timed_out, unavailable
from lms_graphql.kit.transaction import PerUseTransactions, RequestTransaction
from lms_graphql.limits.plans import limits_for
from lms_graphql.operations.authorise import current_tenant, load_viewer
from lms_graphql.operations.idempotency import IdempotentOperation, request_hash
from lms_graphql.operations.outcome import Outcome, executed, internal, refusal
from lms_graphql.operations.outcome import unavailable as unavailable_outcome
from lms_graphql.tenancy.resolution import Resolution, ResolutionError
from lms_graphql.tenancy.tenant import TenantConfig

log = logging.getLogger("lms_graphql")

QUERIES_AND_MUTATIONS = frozenset({OperationType.QUERY, OperationType.MUTATION})


@dataclass(frozen=True)
class OperationCall:
    """One operation as a transport received it."""

    resolution: Resolution
    request_id: str
    connection: HTTPConnection  # the HTTP request or the websocket: its client address
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None
    kind: OperationType | None  # None when the document does not parse: execution reports it
    allowed: frozenset[OperationType] = QUERIES_AND_MUTATIONS
    idempotency_key: str | None = None
    # A websocket's tenant is looked up again for every operation (it may have been deactivated).
    recheck_tenant: bool = False
    connection_params: dict[str, Any] | None = None
    recorder: list[tuple[str, Any]] | None = None  # benchmarks: the statements it issued
    trusted: Registered | None = None  # the registered document the query is (documents/)


class OperationRunner:
    def __init__(self, schema: Any) -> None:
        self.schema = schema

    async def run(self, services: Services, call: OperationCall) -> Outcome:
        """The operation's answer. Raises ResolutionError when the token or tenant no longer
        holds: HTTP answers it, a websocket closes."""
        tx = transaction_for(RequestTransaction, services, call.resolution.tenant, call.recorder)
        try:
            return await self._run(services, call, tx)
        except ResolutionError:
            raise
        except LmsError as exc:  # the tenant's share of the pool stayed full
            details = {k: v for k, v in exc.extensions.items() if k != "code"}
            return refusal(429 if exc.code == ErrorCode.RATE_LIMITED else 400, exc.message, exc.code, **details)
        except Exception as exc:
            if is_database_unavailable(exc):
                log.warning("database unavailable in request %s: %s", call.request_id, type(exc).__name__)
                return unavailable_outcome()
            log.error("request %s failed", call.request_id, exc_info=exc)
            return internal(call.request_id)
        finally:
            with contextlib.suppress(Exception):  # a broken connection is discarded by the pool
                await tx.rollback()

    async def _run(self, services: Services, call: OperationCall, tx: RequestTransaction) -> Outcome:
        resolution = await current_tenant(services, call.resolution) if call.recheck_tenant else call.resolution
        context = await authorised_context(
            services, resolution, tx, call.connection, call.request_id, call.connection_params
        )
        viewer = context.viewer
        trusted = call.trusted if call.trusted is not None and call.trusted.body == call.query else None
        refuse_untrusted(services.settings, resolution.tenant, viewer, trusted)
        if trusted is not None:
            context.extra[VALIDATED_AGAINST] = trusted.schema_hash
        once = None
        if call.idempotency_key is not None and viewer is not None and call.kind == OperationType.MUTATION:
            digest = request_hash(
                {"query": call.query, "variables": call.variables, "operationName": call.operation_name}
            )
            once = IdempotentOperation(tx, resolution.tenant.id, viewer.id, call.idempotency_key, digest)
            answered = await once.claim()
            if answered is not None:
                answered.user = str(viewer.id)
                return answered
        try:
            result = await self.schema.execute(
                call.query,
                variable_values=call.variables,
                context_value=context,
                operation_name=call.operation_name,
                allowed_operation_types={StrawberryOperationType(kind.value) for kind in call.allowed},
            )
        except (CannotGetOperationTypeError, InvalidOperationTypeError, MissingQueryError) as exc:
            return refusal(400, _reason(exc))
        outcome = await self._settle(context, call, result, once)
        outcome.user = str(viewer.id) if viewer is not None else None
        return outcome

    async def _settle(
        self, context: Context, call: OperationCall, result: ExecutionResult, once: IdempotentOperation | None
    ) -> Outcome:
        raw = list(result.errors or [])
        errors = coded_errors(raw, context.request_id)
        operation = context.operation  # set once the document was valid, before limits were checked
        mutation = operation is not None and operation.operation == OperationType.MUTATION
        down = any(unavailable(error) for error in raw)
        if down or any(timed_out(error) for error in raw):
            await context.tx.rollback()  # the failed statement aborted the transaction
            data = None if mutation else result.data
            return _answer(data, errors, context, started=operation is not None, down=down)
        outcome = _answer(result.data, errors, context, started=operation is not None)
        try:
            if mutation:
                async with context.tx.use() as session:
                    await record_mutations(
                        session,
                        context.tenant.id,
                        context.viewer,
                        operation,
                        call.variables or {},
                        errors,
                        call.request_id,
                        context.fragments,
                    )
            if once is not None:
                await once.finish(outcome)
            await context.tx.commit()
        except Exception as exc:
            await context.tx.rollback()
            if is_database_unavailable(exc):
                return unavailable_outcome()
            # Nothing was kept: answering with the data would claim a change that never happened.
            log.error("request %s did not commit: %s", call.request_id, type(exc).__name__)
            return internal(call.request_id)
        return outcome

    async def subscription_context(self, services: Services, socket: Context) -> Context:
        """A subscription's own context, authorised now: its reads run in short transactions with
        the plan's statement timeout and the tenant's gate."""
        assert socket.resolution is not None
        resolution = await current_tenant(services, socket.resolution)
        tx = transaction_for(PerUseTransactions, services, resolution.tenant)
        return await authorised_context(
            services, resolution, tx, socket.request, socket.request_id, socket.connection_params
        )


def transaction_for(
    kind: type[RequestTransaction],
    services: Services,
    tenant: TenantConfig,
    recorder: list[tuple[str, Any]] | None = None,
) -> RequestTransaction:
    """The tenant's transaction with its plan's statement timeout and its share of the pool."""
    limits = limits_for(tenant)
    return kind(
        services.db,
        tenant.id,
        statement_timeout_ms=limits.statement_timeout_ms,
        gate=services.gates.gate(tenant.id, limits.concurrent_transactions),
        recorder=recorder,
    )


async def authorised_context(
    services: Services,
    resolution: Resolution,
    tx: RequestTransaction,
    connection: HTTPConnection,
    request_id: str,
    connection_params: dict[str, Any] | None,
) -> Context:
    """The operation's context, its viewer loaded (and checked) through ``tx``."""
    return Context(
        request=connection,
        request_id=request_id,
        services=services,
        tenant=resolution.tenant,
        viewer=await load_viewer(services, resolution, tx),
        tx=tx,
        connection_params=connection_params,
        resolution=resolution,
    )


def _answer(data: Any, errors: list[GraphQLError], context: Context, *, started: bool, down: bool = False) -> Outcome:
    outcome = executed(data, errors, context.charge, unavailable=down)
    outcome.executed = started
    outcome.cost = context.charge.cost if context.charge is not None else None
    named = context.operation.name if context.operation is not None else None
    outcome.operation = named.value if named is not None else None
    if started:
        outcome.execution = context.extra.get(EXECUTION, INTERPRETED)
    return outcome


def _reason(exc: Exception) -> str:
    if isinstance(exc, InvalidOperationTypeError):
        return f"{exc.operation_type.value} operations are not allowed here"
    if isinstance(exc, CannotGetOperationTypeError):
        return exc.as_http_error_reason()
    return "the request must carry a 'query' string"
