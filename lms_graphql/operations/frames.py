"""A subscription's `next` (graphql-transport-ws) or `data` (graphql-ws) messages written
straight to its websocket.

A live event's payload JSON is rendered once per view and shared by every subscriber of that
view (events/graphql.py); each subscriber only wraps it in its own message, by string
assembly, and sends the text. The text is exactly what strawberry's handlers send for the same
result through the endpoint's encoder (orjson, compact, keys in insertion order): the same
keys in the same order around the same payload.
"""

from __future__ import annotations

from typing import Any

import orjson
from graphql import ExecutionResult
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.http.exceptions import WebSocketDisconnected

from lms_graphql.kit.graphql import coded_errors

LIVE_FRAMES = "live_frames"  # the key in a subscription context's ``extra``


def _id(operation_id: str) -> str:
    return orjson.dumps(operation_id).decode()


class LiveFrames:
    """The messages of one subscription: a rendered payload (JSON text) or, for a result with
    errors, the result itself (its errors are coded for this subscriber's request)."""

    def __init__(self, websocket: WebSocket, operation_id: str, legacy: bool, request_id: str) -> None:
        self._websocket, self._operation_id, self._legacy = websocket, operation_id, legacy
        self._request_id = request_id
        quoted = _id(operation_id)
        self._prefix = (
            f'{{"type":"data","id":{quoted},"payload":' if legacy else f'{{"id":{quoted},"type":"next","payload":'
        )

    async def send(self, view: str | ExecutionResult) -> None:
        text = self._prefix + view + "}" if isinstance(view, str) else self._with_errors(view)
        try:
            await self._websocket.send_text(text)
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc

    def _with_errors(self, result: ExecutionResult) -> str:
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [error.formatted for error in coded_errors(result.errors, self._request_id)]
        if result.extensions:
            payload["extensions"] = result.extensions
        return self._prefix + orjson.dumps(payload).decode() + "}"


def rendered_payload(result: ExecutionResult) -> str | ExecutionResult:
    """An event's result as the payload JSON its subscribers share, or itself when it has
    errors (coded per subscriber)."""
    if result.errors:
        return result
    return orjson.dumps({"data": result.data}).decode()


def attach(context: Any, frames: LiveFrames) -> None:
    context.extra[LIVE_FRAMES] = frames


def live_frames(context: Any) -> LiveFrames | None:
    """How the subscription running with ``context`` writes its messages, over a websocket."""
    frames = context.extra.get(LIVE_FRAMES)
    return frames if isinstance(frames, LiveFrames) else None
