"""The /graphql endpoint: loads the viewer, builds the context, owns the transaction."""

from __future__ import annotations

import re
import uuid

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from lms_graphql.auth.viewer import load_viewer
from lms_graphql.context import Context, RequestTransaction, Services
from lms_graphql.tenancy.resolution import Resolution, ResolutionError

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

        await self.app(scope, receive, send_with_id)


class GraphQLEndpoint(GraphQL[Context, None]):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        resolution: Resolution | None = scope.get("state", {}).get("resolution")
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        if resolution is None:
            # Only the static IDE page comes without a tenant (the resolution middleware
            # answers everything else); it needs no context.
            page = await self.render_graphql_ide(Request(scope, receive))
            await page(scope, receive, send)
            return
        services: Services = scope["app"].state.services
        tx = RequestTransaction(services.db, resolution.tenant.id)
        try:
            try:
                viewer = await load_viewer(services, resolution, tx)
            except ResolutionError as exc:
                await exc.response()(scope, receive, send)
                return
            scope["state"]["viewer"] = viewer
            scope["state"]["tx"] = tx
            await super().__call__(scope, receive, send)
        finally:
            await tx.rollback()  # nothing left to roll back once the operation committed

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        state = request.state
        assert isinstance(request, Request)
        assert isinstance(response, Response)
        return Context(
            request=request,
            response=response,
            request_id=state.request_id,
            services=request.app.state.services,
            tenant=state.resolution.tenant,
            viewer=state.viewer,
            tx=state.tx,
        )
