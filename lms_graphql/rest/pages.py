"""What every REST read answers with: an ETag (a client's If-None-Match gets 304 Not Modified),
and for a list the next page's address in a Link header."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import orjson
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from lms_graphql.kit.pagination import encode_cursor


def etagged(request: Request, body: BaseModel, *, next_cursor: str | None = None) -> Response:
    content = orjson.dumps(body.model_dump(mode="json", by_alias=True))
    tag = f'W/"{hashlib.sha256(content).hexdigest()[:32]}"'
    # Per viewer: a shared cache must not keep it; the client revalidates with the tag.
    headers = {"ETag": tag, "Cache-Control": "private, no-cache"}
    charged = getattr(request.state, "charge", None)
    if charged is not None:  # as GraphQL answers it
        headers["X-Query-Cost"] = str(charged.cost)
        if charged.remaining is not None:
            headers["X-RateLimit-Remaining"] = str(charged.remaining)
    if next_cursor is not None:
        headers["Link"] = f'<{request.url.include_query_params(after=next_cursor)}>; rel="next"'
    if tag in [value.strip() for value in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(content, media_type="application/json", headers=headers)


def page_of(rows: Sequence[Any], first: int, at: str) -> tuple[list[Any], str | None]:
    """The page of ``rows`` (fetched ``first + 1`` to know whether another follows), and the
    next page's cursor (the last row's ``at`` column and id), or None on the last page."""
    page = list(rows[:first])
    more = len(rows) > first and bool(page)
    return page, encode_cursor(getattr(page[-1], at), page[-1].id) if more else None
