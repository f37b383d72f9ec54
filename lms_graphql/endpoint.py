"""The /graphql endpoint: loads the viewer, builds the context, owns the transaction."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import GraphQLError, OperationType, get_operation_ast, parse
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UNSET, UnsetType

from lms_graphql.auth.viewer import load_viewer
from lms_graphql.context import Context, PerUseTransactions, RequestTransaction, Services
from lms_graphql.errors import ErrorCode, LmsError
from lms_graphql.http_surface import MAX_LIST_ITEMS, error_response, oversized_list, parse_body
from lms_graphql.idempotency import KEY_FORMAT, Idempotency, request_hash
from lms_graphql.limits.plans import limits_for
from lms_graphql.tenancy.config import TenantConfig
from lms_graphql.tenancy.resolution import Resolution, ResolutionError

log = logging.getLogger("lms_graphql")
access_log = logging.getLogger("lms_graphql.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Tags each request with an id (the client's X-Request-ID when sane) for logs and errors."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        supplied = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        # A websocket's messages need no header: skip a wrapper on every frame of a fan-out.
        await self.app(scope, receive, send_with_id if scope["type"] == "http" else send)


class GraphQLEndpoint(GraphQL[Context, None]):
    # orjson: a full dashboard is ~100 KB of JSON; the stdlib encoder was 3 % of its CPU time.
    # A str, not bytes: strawberry sends bytes over a websocket as a binary frame, which the
    # GraphQL websocket protocols do not allow.
    def encode_json(self, data: object) -> str:
        return orjson.dumps(data).decode()

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        resolution: Resolution | None = scope.get("state", {}).get("resolution")
        if scope["type"] == "websocket":
            try:
                await super().__call__(scope, receive, send)
            finally:
                socket_context: Context | None = scope["state"].get("socket_context")
                if socket_context is not None:
                    release_socket(socket_context)
            return
        if resolution is None:
            # Only the static IDE page comes without a tenant (the resolution middleware
            # answers everything else); it needs no context.
            if self.graphql_ide:
                page: Response = await self.render_graphql_ide(Request(scope, receive))
            else:
                page = error_response(404, "GraphiQL is turned off on this server", ErrorCode.NOT_FOUND)
            await page(scope, receive, send)
            return
        services: Services = scope["app"].state.services
        limits = limits_for(resolution.tenant)
        tx = RequestTransaction(
            services.db,
            resolution.tenant.id,
            statement_timeout_ms=limits.statement_timeout_ms,
            gate=services.gates.gate(resolution.tenant.id, limits.concurrent_transactions),
            recorder=[] if services.settings.bench else None,
        )
        try:
            try:
                viewer = await load_viewer(services, resolution, tx)
            except ResolutionError as exc:
                await exc.response()(scope, receive, send)
                return
            except LmsError as exc:  # the tenant's connection share stayed full
                await error_response(429, exc.message, exc.code)(scope, receive, send)
                return
            scope["state"]["viewer"] = viewer
            scope["state"]["tx"] = tx
            await self._serve_http(scope, receive, send)
        except Exception:
            # Whatever escaped (the database went away...): logged in full, answered in the
            # contract's shape without internals.
            request_id = scope["state"].get("request_id", "-")
            log.exception("request %s failed", request_id)
            message = f"Internal error. Quote request id {request_id} when reporting it."
            await error_response(500, message, ErrorCode.INTERNAL)(scope, receive, send)
        finally:
            await tx.rollback()  # nothing left to roll back once the operation committed

    async def _serve_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        started = time.perf_counter()
        try:
            response = await self._refuse(request)
            if response is None:
                once = self._idempotency(request)
                response = await self._once(request, *once) if once is not None else await self.run(request)
        except HTTPException as exc:
            # strawberry refuses malformed requests in plain text; clients get GraphQL errors.
            response = error_response(exc.status_code, exc.reason)
        except LmsError as exc:
            response = error_response(400, exc.message, exc.code)
        recorder = request.state.tx.recorder
        if recorder is not None:
            _attach_statements(request, response, recorder)
        await response(scope, receive, send)
        _log_request(request, response.status_code, time.perf_counter() - started)

    def _idempotency(self, request: Request) -> tuple[Idempotency, str] | None:
        key = request.headers.get("idempotency-key")
        body = getattr(request.state, "body", None)
        viewer = request.state.viewer
        if key is None or not isinstance(body, dict) or viewer is None or not _is_mutation(body):
            return None
        if not KEY_FORMAT.match(key):
            raise LmsError(ErrorCode.BAD_USER_INPUT, "Idempotency-Key must be 1-255 printable characters")
        services: Services = request.app.state.services
        tenant_id = request.state.resolution.tenant.id
        return Idempotency(services.db, tenant_id, viewer.id, key), request_hash(body)

    async def _once(self, request: Request, once: Idempotency, digest: str) -> Response:
        state, row = "claimed", None
        if not await once.claim(digest):
            state, row = await once.stored(digest)
            if state == "free":  # the earlier request gave up, or its process died
                state = "claimed" if await once.claim(digest) else "running"
        if state == "claimed":
            try:
                response = await self.run(request)
            except BaseException:
                await once.forget()  # nothing was answered: a retry may run it
                raise
            await once.finish(response.status_code, json.loads(bytes(response.body)))
            return response
        if state == "replay" and row is not None:
            replayed = {"Idempotent-Replayed": "true"}
            return JSONResponse(row.response_body, status_code=row.response_status, headers=replayed)
        if state == "conflict":
            return error_response(409, "this Idempotency-Key was used for a different request", ErrorCode.CONFLICT)
        return error_response(409, "a request with this Idempotency-Key is still running", ErrorCode.CONFLICT)

    async def _refuse(self, request: Request) -> Response | None:
        if request.method != "POST":
            return None
        body = parse_body(await request.body())  # cached: strawberry reads it again
        if body is None:
            return error_response(400, "the request body is not valid JSON")
        if isinstance(body, list) and not request.app.state.services.settings.allow_batching:
            return error_response(400, "batched requests (a JSON array) are not accepted: send one operation")
        items = body if isinstance(body, list) else [body]
        if any(isinstance(item, dict) and oversized_list(item.get("variables")) for item in items):
            return error_response(400, f"lists in variables are limited to {MAX_LIST_ITEMS} items")
        request.state.body = body
        return None

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        state = request.state
        services: Services = request.app.state.services
        if isinstance(request, WebSocket):
            # Authenticated at connection_init (on_ws_connect); until then nothing runs.
            resolution: Resolution | None = getattr(state, "resolution", None)
            tenant = resolution.tenant if resolution is not None else UNRESOLVED_TENANT
            context = Context(
                request=request,  # type: ignore[arg-type]
                response=response,  # type: ignore[arg-type]
                request_id=state.request_id,
                services=services,
                tenant=tenant,
                viewer=None,
                tx=PerUseTransactions(services.db, tenant.id),
            )
            request.scope["state"]["socket_context"] = context
            return context
        assert isinstance(response, Response)
        state.context = Context(
            request=request,
            response=response,
            request_id=state.request_id,
            services=services,
            tenant=state.resolution.tenant,
            viewer=state.viewer,
            tx=state.tx,
        )
        request_context: Context = state.context
        return request_context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
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
            )
            tx = PerUseTransactions(services.db, resolution.tenant.id)
            viewer = await load_viewer(services, resolution, tx)
        except ResolutionError as exc:
            raise ConnectionRejectionError({"message": exc.message, "code": exc.code.value}) from None
        if viewer is None or resolution.claims is None:
            raise ConnectionRejectionError({"message": "sign in first", "code": "UNAUTHENTICATED"})
        if not services.sockets.acquire(viewer.id):
            raise ConnectionRejectionError(
                {"message": f"at most {services.sockets.limit} live connections per user", "code": "RATE_LIMITED"}
            )
        context.tenant, context.viewer, context.tx = resolution.tenant, viewer, tx
        context.extra["socket_owner"] = viewer.id
        delay = (resolution.claims.expires_at - datetime.now(UTC)).total_seconds()
        context.extra["expiry"] = asyncio.get_running_loop().call_later(
            max(delay, 0.0), lambda: asyncio.ensure_future(_close_expired(socket))
        )
        acknowledged: UnsetType = UNSET
        return acknowledged


def _param(params: dict[str, Any], name: str) -> str | None:
    """A connection_init param, whatever the case of its name (GraphiQL sends its headers)."""
    for key, value in params.items():
        if key.lower() == name and isinstance(value, str):
            return value
    return None


def _attach_statements(request: Request, response: Response, recorder: list[tuple[str, Any]]) -> None:
    """Benchmarks only (LMS_BENCH): how many statements the request issued and, asked for
    with X-Bench-Capture, which ones (for the raw-SQL baseline)."""
    response.headers["X-SQL-Statements"] = str(len(recorder))
    if request.headers.get("x-bench-capture") and response.media_type == "application/json":
        body = json.loads(bytes(response.body))
        body.setdefault("extensions", {})["sql"] = [[statement, params] for statement, params in recorder]
        response.body = json.dumps(body, default=str).encode()
        response.headers["content-length"] = str(len(response.body))


def _is_mutation(body: dict[str, Any]) -> bool:
    query = body.get("query")
    if not isinstance(query, str):
        return False
    try:
        operation = get_operation_ast(parse(query, max_tokens=10_000), body.get("operationName"))
    except GraphQLError:
        return False
    return operation is not None and operation.operation == OperationType.MUTATION


def _log_request(request: Request, status: int, seconds: float) -> None:
    """One structured line per GraphQL request."""
    context: Context | None = getattr(request.state, "context", None)
    resolution: Resolution | None = getattr(request.state, "resolution", None)
    body = getattr(request.state, "body", None)
    access_log.info(
        json.dumps(
            {
                "requestId": getattr(request.state, "request_id", None),
                "tenant": resolution.tenant.slug if resolution else None,
                "user": str(context.viewer.id) if context is not None and context.viewer is not None else None,
                "operation": body.get("operationName") if isinstance(body, dict) else None,
                "cost": context.extra.get("cost") if context is not None else None,
                "status": status,
                "ms": round(seconds * 1000, 1),
            },
            separators=(",", ":"),
        )
    )


async def _close_expired(socket: WebSocket) -> None:
    with contextlib.suppress(Exception):
        await socket.close(code=4401, reason="token expired")


def release_socket(context: Context) -> None:
    expiry = context.extra.pop("expiry", None)
    if expiry is not None:
        expiry.cancel()
    owner = context.extra.pop("socket_owner", None)
    if owner is not None:
        context.services.sockets.release(owner)


UNRESOLVED_TENANT = TenantConfig(
    id=uuid.UUID(int=0), slug="-", name="-", plan="free", region="eu-west-1", placement="shared", is_active=False
)
