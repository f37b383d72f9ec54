"""The access line and the request metrics: one record per GraphQL request over HTTP and per
query or mutation over a websocket, written once the answer has gone.

The line (logger ``lms_graphql.access``, level INFO) carries the request id, tenant, user,
operation, cost, status, error codes, duration and client address; never variables, tokens or
the document. The metrics get the same facts with bounded labels (observability.metrics).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lms_graphql.observability import metrics
from lms_graphql.operations.middleware import REST_PREFIX, state_of
from lms_graphql.operations.outcome import Outcome
from lms_graphql.tenancy.tenant import TenantConfig

if TYPE_CHECKING:
    from lms_graphql.context import Context

access_log = logging.getLogger("lms_graphql.access")

# nginx's code for "the client closed the connection before the answer": nothing was sent.
CLIENT_CLOSED_REQUEST = 499
INVALID_NAME = "(invalid)"  # an operation name that is no GraphQL name (at most 64 characters)


class AccessMiddleware:
    """Records every HTTP request to ``path`` and the REST API, refusals of the layers below included. A client
    that goes away before its request was read ends the request quietly: one info line."""

    def __init__(self, app: ASGIApp, path: str = "/graphql") -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not (scope["path"] == self.path or scope["path"].startswith(REST_PREFIX)):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless a response starts: an exception escaped

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        except ClientDisconnect:
            status = CLIENT_CLOSED_REQUEST  # nobody is left to answer
        finally:
            _record_http(scope, status, time.perf_counter() - started)


def _record_http(scope: Scope, status: int, seconds: float) -> None:
    state = state_of(scope)
    client = scope.get("client")
    tenant = state.resolution.tenant if state.resolution is not None else None
    if status == CLIENT_CLOSED_REQUEST:
        message = f"{scope['method']} {scope['path']}: the client went away before its request was read"
    else:
        message = f"{scope['method']} {scope['path']} {status}"
    _record(
        message,
        transport="http",
        request_id=state.request_id,
        tenant=tenant,
        operation_name=state.operation_name,
        outcome=state.outcome,
        status=status,
        seconds=seconds,
        client=client[0] if client else None,
        method=scope["method"],
    )


def record_socket_operation(socket: Context, operation_name: str | None, outcome: Outcome, seconds: float) -> None:
    """A query or mutation answered over ``socket``."""
    client = socket.request.client
    _record(
        f"WS {loggable_name(operation_name) or '-'} {outcome.status}",
        transport="ws",
        request_id=socket.request_id,
        tenant=socket.tenant,
        operation_name=operation_name,
        outcome=outcome,
        status=outcome.status,
        seconds=seconds,
        client=client.host if client else None,
    )


def _record(
    message: str,
    *,
    transport: str,
    request_id: str,
    tenant: TenantConfig | None,
    operation_name: str | None,
    outcome: Outcome | list[Outcome] | None,
    status: int,
    seconds: float,
    client: str | None,
    method: str | None = None,
) -> None:
    items = outcome if isinstance(outcome, list) else [outcome] if outcome is not None else []
    costs = [item.cost for item in items if item.cost is not None]
    cost = sum(costs) if costs else None
    codes = [code for item in items for code in item.codes]
    plan = metrics.plan_label(tenant.plan if tenant is not None else None)
    if isinstance(outcome, list):
        operation_name = label = metrics.BATCH
    elif outcome is not None and outcome.operation is not None:
        operation_name = outcome.operation  # the document's own name, whether or not the request named it
        label = metrics.operation_label(operation_name, ran=outcome.user is not None)
    else:
        label = metrics.operation_label(operation_name, ran=False)
    metrics.observe_request(transport=transport, operation=label, status=status, plan=plan, seconds=seconds, cost=cost)
    metrics.count_refusals(transport, codes, plan)
    fields: dict[str, Any] = {
        "requestId": request_id,
        "transport": transport,
        "method": method,
        "tenant": tenant.slug if tenant is not None else None,
        "user": next((item.user for item in items if item.user is not None), None),
        "operation": loggable_name(operation_name),
        "status": status,
        "cost": cost,
        "codes": codes or None,
        "durationMs": round(seconds * 1000, 1),
        "client": client,
    }
    access_log.info(message, extra=fields)


def loggable_name(name: str | None) -> str | None:
    """A client-chosen operation name as the logs may show it: a GraphQL name, or "(invalid)"
    (a newline in it would forge a log line in the human format)."""
    if name is None:
        return None
    return name if metrics.GRAPHQL_NAME.match(name) else INVALID_NAME
