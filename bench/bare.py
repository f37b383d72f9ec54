"""The bare HTTP baseline: Starlette on uvicorn answering one small JSON body.
Run: python -m bench.bare PORT [WORKERS]"""

from __future__ import annotations

import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.load import BARE_BODY


async def graphql(request: Request) -> Response:
    await request.body()
    return Response(BARE_BODY, media_type="application/json")


app = Starlette(routes=[Route("/graphql", graphql, methods=["POST"]), Route("/readyz", graphql, methods=["GET"])])

if __name__ == "__main__":
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    uvicorn.run("bench.bare:app", host="127.0.0.1", port=int(sys.argv[1]), workers=workers, log_level="warning")
