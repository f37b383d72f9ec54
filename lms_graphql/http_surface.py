"""The HTTP surface of /graphql: body size, media type, and GraphQL-shaped refusals."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lms_graphql.errors import ErrorCode

JSON_TYPES = ("application/json", "application/graphql-response+json")


def error_response(status: int, message: str, code: ErrorCode = ErrorCode.BAD_USER_INPUT) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code.value}}]}, status_code=status)


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
            await error_response(415, "send GraphQL requests as application/json")(scope, receive, send)
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
        await error_response(413, message)(scope, receive, send)


def parse_body(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
