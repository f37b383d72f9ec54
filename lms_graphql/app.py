"""The ASGI application: engines in the lifespan, health probes, GraphQL."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL

from lms_graphql.config import Settings
from lms_graphql.kit.db import Database, resolve_database_urls
from lms_graphql.schema import schema

log = logging.getLogger("lms_graphql")


class UnsafeDatabaseRoleError(RuntimeError):
    pass


async def ensure_app_role_is_confined(db: Database) -> None:
    """Refuse to serve as a role that row-level security does not bind."""
    role = await db.role_attributes()
    if role["rolsuper"] or role["rolbypassrls"]:
        raise UnsafeDatabaseRoleError(
            f"database role {role['rolname']!r} is a superuser or has BYPASSRLS: "
            "row-level security would not apply; connect as the app role instead"
        )


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    db: Database = request.app.state.db
    if await db.ping():
        return JSONResponse({"status": "ready"})
    return JSONResponse({"status": "unavailable", "reason": "database unreachable"}, status_code=503)


def create_app(settings: Settings | None = None, db: Database | None = None) -> Starlette:
    """Build the app. Without ``db`` it connects to the configured database at startup."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned = db is None
        database = db or Database(resolve_database_urls(settings).app)
        try:
            await ensure_app_role_is_confined(database)
            app.state.db = database
            app.state.settings = settings
            yield
        finally:
            if owned:
                await database.dispose()

    graphql_app: GraphQL[None, None] = GraphQL(schema, graphql_ide="graphiql")
    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", graphql_app, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql_app),
        ],
        lifespan=lifespan,
    )
