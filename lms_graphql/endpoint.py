"""The /graphql endpoint: transport only. HTTP requests are parsed and refused here when
malformed; every operation runs through OperationRunner; websockets through the handlers of
operations.sockets."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from graphql import OperationType
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UNSET, UnsetType

from lms_graphql.context import Context, Services
from lms_graphql.documents.requests import Requested, requested_document
from lms_graphql.errors import ErrorCode, LmsError
from lms_graphql.graphiql import graphiql_page
from lms_graphql.kit.db import is_database_unavailable
from lms_graphql.kit.graphql import operation_type
from lms_graphql.kit.transaction import PerUseTransactions
from lms_graphql.limits.plans import limits_for
from lms_graphql.observability import metrics
from lms_graphql.operations.authorise import load_viewer
from lms_graphql.operations.idempotency import KEY_FORMAT
from lms_graphql.operations.input_checks import parse_body, request_problem
from lms_graphql.operations.middleware import state_of
from lms_graphql.operations.outcome import (
    Outcome,
    negotiated_response,
    refusal,
    resolution_refusal,
    response_of,
    unavailable,
)
from lms_graphql.operations.runner import OperationCall, OperationRunner, transaction_for
from lms_graphql.operations.socket_protocols import LegacyWsHandler, TransportWsHandler
from lms_graphql.tenancy.resolution import Resolution, ResolutionError
from lms_graphql.tenancy.tenant import TenantConfig

log = logging.getLogger("lms_graphql")
MAX_BATCH = 20  # operations in one batched request (LMS_ALLOW_BATCHING)


class GraphQLEndpoint(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TransportWsHandler
    graphql_ws_handler_class = LegacyWsHandler

    def __init__(self, schema: Any, **options: Any) -> None:
        super().__init__(schema, **options)
        self.runner = OperationRunner(schema)

    # orjson: a full dashboard is ~100 KB of JSON; the stdlib encoder was 3 % of its CPU time.
    # A str, not bytes: strawberry sends bytes over a websocket as a binary frame, which the
    # GraphQL websocket protocols do not allow.
    def encode_json(self, data: object) -> str:
        return orjson.dumps(data).decode()

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    async def render_graphql_ide(self, request: Request) -> Response:
        """Our own GraphiQL page (lms_graphql/graphiql.py): every file from this server."""
        services: Services = request.app.state.services
        return graphiql_page(request, services.settings.base_domain)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            try:
                await super().__call__(scope, receive, send)
            finally:
                socket_context = state_of(scope).socket
                if socket_context is not None:
                    release_socket(socket_context)
            return
        resolution = state_of(scope).resolution
        if resolution is None:
            # Only the static IDE page comes without a tenant (the resolution middleware
            # answers everything else).
            if self.graphql_ide:
                page: Response = await self.render_graphql_ide(Request(scope, receive))
            else:
                page = response_of(refusal(404, "GraphiQL is turned off on this server", ErrorCode.NOT_FOUND))
            await page(scope, receive, send)
            return
        request = Request(scope, receive)
        services: Services = scope["app"].state.services
        recorder: list[tuple[str, Any]] | None = [] if services.settings.bench else None
        outcome = await self._serve(request, services, resolution, recorder)
        state_of(scope).outcome = outcome  # for the access line (operations/access.py)
        response = negotiated_response(outcome, scope)
        if recorder is not None and isinstance(outcome, Outcome):
            response = _with_statements(request, outcome, recorder, response)
        await response(scope, receive, send)

    async def _serve(
        self, request: Request, services: Services, resolution: Resolution, recorder: list[tuple[str, Any]] | None
    ) -> Outcome | list[Outcome]:
        if request.method == "GET":
            item: Any = _from_query_string(request)
            if item is None:
                return refusal(400, "'variables' and 'extensions' in the query string must be JSON objects")
        else:
            item = parse_body(await request.body())
            if item is None:
                return refusal(400, "the request body is not valid JSON")
        if isinstance(item, list):
            if not services.settings.allow_batching or request.method == "GET":
                return refusal(400, "batched requests (a JSON array) are not accepted: send one operation")
            if not item or len(item) > MAX_BATCH:
                return refusal(400, f"a batch holds 1 to {MAX_BATCH} operations")
            # Each runs on its own, in its own transaction; an Idempotency-Key names one request,
            # not each of a batch's operations, so a batch carries none.
            return [await self._one(request, services, resolution, entry, None, batched=True) for entry in item]
        return await self._one(request, services, resolution, item, recorder)

    async def _one(
        self,
        request: Request,
        services: Services,
        resolution: Resolution,
        item: Any,
        recorder: list[tuple[str, Any]] | None,
        *,
        batched: bool = False,
    ) -> Outcome:
        try:
            requested = await requested_document(services.documents, resolution.tenant.id, item)
        except LmsError as exc:
            return refusal(400, exc.message, exc.code)
        except Exception as exc:
            if is_database_unavailable(exc):  # looking the id up
                return unavailable()
            raise
        if requested is not None:
            item = {**item, "query": requested.query}
        problem = request_problem(item)
        if problem:
            return refusal(400, problem)
        query, operation_name = item["query"], item.get("operationName")
        state_of(request.scope).operation_name = operation_name
        try:
            kind = await operation_type(query, operation_name, limits_for(resolution.tenant).max_tokens)
        except LmsError as exc:
            return refusal(400, exc.message, exc.code)
        if kind == OperationType.SUBSCRIPTION:
            return refusal(400, "subscriptions run over a websocket (graphql-transport-ws) at /graphql")
        if request.method == "GET" and kind == OperationType.MUTATION:
            outcome = refusal(405, "mutations must be sent with POST")
            outcome.headers["Allow"] = "POST"
            return outcome
        key = None if batched else request.headers.get("idempotency-key")
        if key is not None and not KEY_FORMAT.match(key):
            return refusal(400, "Idempotency-Key must be 1-255 printable characters")
        call = OperationCall(
            resolution=resolution,
            request_id=state_of(request.scope).request_id,
            connection=request,
            query=query,
            variables=item.get("variables"),
            operation_name=operation_name,
            kind=kind,
            allowed=frozenset({OperationType.QUERY})
            if request.method == "GET"
            else frozenset({OperationType.QUERY, OperationType.MUTATION}),
            idempotency_key=key,
            recorder=recorder,
            trusted=requested.trusted if requested is not None else None,
        )
        try:
            outcome = await self.runner.run(services, call)
        except ResolutionError as exc:
            return resolution_refusal(exc)
        if requested is not None:
            requested.remember_if_it_ran(services.documents, outcome.executed)
        if request.method == "GET":
            _cacheable_if_public(outcome, requested)
        return outcome

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        """A websocket's own context: authenticated at connection_init (on_ws_connect); each
        operation then runs with a context of its own."""
        state = state_of(request.scope)
        services: Services = request.app.state.services
        tenant = state.resolution.tenant if state.resolution is not None else UNRESOLVED_TENANT
        context = Context(
            request=request,
            request_id=state.request_id,
            services=services,
            tenant=tenant,
            viewer=None,
            tx=PerUseTransactions(services.db, tenant.id),
        )
        state.socket = context
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        try:
            return await self._authenticate_socket(context)
        except ConnectionRejectionError as exc:
            code = exc.payload.get("code") if isinstance(exc.payload, dict) else None
            metrics.count_refusals("ws", [str(code)], metrics.NO_PLAN)
            raise

    async def _authenticate_socket(self, context: Context) -> UnsetType:
        """Authenticate the socket exactly as an HTTP request: token from the connection_init
        payload ({"authorization": "Bearer ..."}) or the upgrade request's header."""
        socket: Any = context.request
        params = context.connection_params or {}
        authorization = _param(params, "authorization") or socket.headers.get("authorization")
        if not isinstance(authorization, str) or not authorization:
            raise ConnectionRejectionError({"message": "sign in first: send a bearer token", "code": "UNAUTHENTICATED"})
        services = context.services
        try:
            resolution = await services.resolver.resolve_parts(
                host=socket.headers.get("host", ""),
                # Browsers cannot set headers on a websocket: X-Tenant-ID may come as a param.
                tenant_header=socket.headers.get("x-tenant-id") or _param(params, "x-tenant-id"),
                authorization=authorization,
                path_slug=state_of(socket.scope).path_slug,
            )
            viewer = await load_viewer(
                services, resolution, transaction_for(PerUseTransactions, services, resolution.tenant)
            )
        except ResolutionError as exc:
            raise ConnectionRejectionError({"message": exc.message, "code": exc.code.value}) from None
        if viewer is None or resolution.claims is None:
            raise ConnectionRejectionError({"message": "sign in first", "code": "UNAUTHENTICATED"})
        context.tenant, context.viewer, context.resolution = resolution.tenant, viewer, resolution
        if not services.sockets.add(context):
            raise ConnectionRejectionError(
                {"message": f"at most {services.sockets.limit} live connections per user", "code": "RATE_LIMITED"}
            )
        delay = (resolution.claims.expires_at - datetime.now(UTC)).total_seconds()

        def expire() -> None:
            context.extra["closing"] = asyncio.ensure_future(_close_expired(socket))

        context.extra["expiry"] = asyncio.get_running_loop().call_later(max(delay, 0.0), expire)
        acknowledged: UnsetType = UNSET
        return acknowledged


def _param(params: dict[str, Any], name: str) -> str | None:
    """A connection_init param, whatever the case of its name (GraphiQL sends its headers)."""
    for key, value in params.items():
        if key.lower() == name and isinstance(value, str):
            return value
    return None


# How long a shared cache may keep the answer to a GET of a persisted document asked without a
# token (the tenant's public data, e.g. its catalogue); anything personal is never stored.
PUBLIC_MAX_AGE_SECONDS = 60


def _cacheable_if_public(outcome: Outcome, requested: Requested | None) -> None:
    public = (
        requested is not None
        and requested.by_id
        and outcome.user is None
        and outcome.status == 200
        and "errors" not in outcome.body
    )
    if public:
        outcome.headers["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE_SECONDS}"
        # The tenant comes from the host or X-Tenant-ID; a token makes it another answer.
        outcome.headers["Vary"] = "Host, X-Tenant-ID, Authorization, Accept"
    else:
        outcome.headers["Cache-Control"] = "private, no-store"


def _from_query_string(request: Request) -> dict[str, Any] | None:
    """GET /graphql?query=...&variables=...&operationName=... as a request body."""
    params = request.query_params
    item: dict[str, Any] = {"query": params.get("query"), "operationName": params.get("operationName")}
    for name in ("variables", "extensions"):
        raw = params.get(name)
        if raw:
            value = parse_body(raw.encode())
            if not isinstance(value, dict):
                return None
            item[name] = value
    for name in ("documentId", "doc_id"):
        if params.get(name) is not None:
            item[name] = params[name]
    return item


def _with_statements(
    request: Request, outcome: Outcome, recorder: list[tuple[str, Any]], response: Response
) -> Response:
    """Benchmarks only (LMS_BENCH): ``response`` saying how many statements the request issued
    and how it ran, or, asked for with X-Bench-Capture, a body listing them (for the raw-SQL
    baseline)."""
    headers = {"X-SQL-Statements": str(len(recorder))}
    if outcome.execution is not None:
        headers["X-Execution"] = outcome.execution
    if request.headers.get("x-bench-capture"):
        # A compiled answer's data is an orjson Fragment, which only orjson can write.
        body = {**orjson.loads(orjson.dumps(outcome.body)), "extensions": {"sql": [[s, p] for s, p in recorder]}}
        headers = {**outcome.headers, **headers}
        return Response(json.dumps(body, default=str), outcome.status, headers, media_type="application/json")
    response.headers.update(headers)
    return response


async def _close_expired(socket: WebSocket) -> None:
    with contextlib.suppress(Exception):
        await socket.close(code=4401, reason="token expired")


def release_socket(context: Context) -> None:
    expiry = context.extra.pop("expiry", None)
    if expiry is not None:
        expiry.cancel()
    context.services.sockets.remove(context)


UNRESOLVED_TENANT = TenantConfig(
    id=uuid.UUID(int=0), slug="-", name="-", plan="free", region="eu-west-1", placement="pool", is_active=False
)
