"""The HTTP and websocket surface in front of /graphql: a request id, the body's size and
media type, and the tenant; what they learn travels in one typed RequestState."""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lms_graphql.errors import UNAVAILABLE_MESSAGE, ErrorCode
from lms_graphql.kit.db import is_database_unavailable
from lms_graphql.operations.outcome import Outcome, negotiated_response, refusal, resolution_refusal, unavailable
from lms_graphql.rest.problems import problem_of_outcome
from lms_graphql.tenancy.resolution import Resolution, ResolutionError, TenantResolver

if TYPE_CHECKING:
    from lms_graphql.context import Context

log = logging.getLogger("lms_graphql.tenancy")
JSON_TYPES = ("application/json", "application/graphql-response+json")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
STATE_KEY = "lms"


@dataclass
class RequestState:
    """What the surface learned of a request (or websocket), for the endpoint and the logs."""

    request_id: str
    path_slug: str | None = None  # the tenant named by a /tenants/{slug}/ prefix (TenantPathMiddleware)
    resolution: Resolution | None = None  # None: an open path, the IDE page, or a socket to resolve later
    socket: Context | None = None  # a websocket's own context
    operation_name: str | None = None
    outcome: Outcome | list[Outcome] | None = None  # what was answered, for the access line


def state_of(scope: Scope) -> RequestState:
    state: RequestState = scope["state"][STATE_KEY]
    return state


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
        scope.setdefault("state", {})[STATE_KEY] = RequestState(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        # A websocket's messages need no header: skip a wrapper on every frame of a fan-out.
        await self.app(scope, receive, send_with_id if scope["type"] == "http" else send)


REST_PREFIX = "/api/"


async def answer(outcome: Outcome, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer with ``outcome``, noted for the access line: a problem (RFC 9457) under /api/."""
    state_of(scope).outcome = outcome
    if scope["path"].startswith(REST_PREFIX):
        await problem_of_outcome(outcome)(scope, receive, send)
        return
    await negotiated_response(outcome, scope)(scope, receive, send)


class BodyTooLarge(Exception):
    pass


class HttpSurfaceMiddleware:
    """POSTs to /graphql must be JSON (no form posts: CSRF) and at most ``max_body`` bytes,
    refused with 415 / 413 before anything parses them."""

    def __init__(self, app: ASGIApp, max_body: int = 1_048_576, path: str = "/graphql") -> None:
        self.app = app
        self.max_body = max_body
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in JSON_TYPES:
            await answer(refusal(415, "send GraphQL requests as application/json"), scope, receive, send)
            return
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            await self._too_large(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except BodyTooLarge:
            await self._too_large(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"the request body is larger than {self.max_body} bytes"
        await answer(refusal(413, message), scope, receive, send)


_TENANT_PATH = re.compile(r"^/tenants/([^/]+)(/.*)$")


class TenantPathMiddleware:
    """The seed's fourth resolution strategy, for deployments without wildcard DNS (turned on by
    LMS_TENANT_PATH_PREFIX): /tenants/{slug}/graphql and /tenants/{slug}/api/v1/... are served
    as /graphql and /api/v1/... of that tenant; the slug then ranks after a subdomain and before
    the X-Tenant-ID header and the token, with the same error codes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = _TENANT_PATH.match(scope["path"]) if scope["type"] in ("http", "websocket") else None
        if found is not None:
            slug, rest = found.group(1), found.group(2)
            scope = {**scope, "path": rest, "raw_path": rest.encode()}
            state_of(scope).path_slug = slug
        await self.app(scope, receive, send)


def is_graphql_ide_page(scope: Scope) -> bool:
    """GET /graphql from a browser without a query: the static IDE page, no tenant needed."""
    if scope["type"] != "http" or scope["method"] != "GET":
        return False
    headers = Headers(scope=scope)
    return "text/html" in headers.get("accept", "") and b"query=" not in scope.get("query_string", b"")


# The REST API's OpenAPI document and its documentation page are the same for every tenant.
OPEN_PATHS = frozenset({"/", "/healthz", "/readyz", "/metrics", "/api/v1/openapi.json", "/api/v1/docs"})
# GraphiQL's and Swagger UI's files: the same for every tenant; stored files and data exports: a
# signed URL (file_routes.py, privacy/routes.py, administration/routes.py) is their permission.
OPEN_PREFIXES = ("/static/", "/files/", "/exports/", "/reports/")


class TenantResolutionMiddleware:
    """Resolves the tenant for every request outside ``open_paths`` and ``open_prefixes``
    before the app runs (tenancy/resolution.py decides; this carries the answer)."""

    def __init__(
        self, app: ASGIApp, open_paths: frozenset[str] = OPEN_PATHS, open_prefixes: tuple[str, ...] = OPEN_PREFIXES
    ) -> None:
        self.app = app
        self.open_paths = open_paths
        self.open_prefixes = open_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self._is_open(scope["path"]):
            await self.app(scope, receive, send)
            return
        if is_graphql_ide_page(scope):
            await self.app(scope, receive, send)
            return
        resolver: TenantResolver = scope["app"].state.services.resolver
        try:
            resolution = await resolver.resolve(Headers(scope=scope), state_of(scope).path_slug)
        except ResolutionError as exc:
            if scope["type"] == "websocket" and exc.code == ErrorCode.TENANT_NOT_RESOLVED:
                # The token may still come in the connection_init payload: resolved there.
                await self.app(scope, receive, send)
                return
            if scope["type"] == "websocket":
                close_code = exc.CLOSE_CODE[exc.status]
                await send({"type": "websocket.close", "code": close_code, "reason": exc.message})
            else:
                await answer(resolution_refusal(exc), scope, receive, send)
            return
        except Exception as exc:
            if not is_database_unavailable(exc):
                raise
            # The registry could not be read: the same answer an operation gives.
            log.warning("database unavailable while resolving a tenant: %s", type(exc).__name__)
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1013, "reason": UNAVAILABLE_MESSAGE})
            else:
                await answer(unavailable(), scope, receive, send)
            return
        state_of(scope).resolution = resolution
        await self.app(scope, receive, send)

    def _is_open(self, path: str) -> bool:
        return path in self.open_paths or path.startswith(self.open_prefixes)
