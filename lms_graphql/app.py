"""The ASGI application: services in the lifespan, health probes, GraphQL."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from lms_graphql.auth.tokens import TokenService
from lms_graphql.config import Settings
from lms_graphql.context import Services
from lms_graphql.endpoint import GraphQLEndpoint, RequestIdMiddleware
from lms_graphql.kit.db import Database, resolve_database_urls
from lms_graphql.schema import schema
from lms_graphql.tenancy.registry import TenantRegistry
from lms_graphql.tenancy.resolution import TenantResolutionMiddleware, TenantResolver

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


def build_services(settings: Settings, db: Database) -> Services:
    registry = TenantRegistry(db)
    tokens = TokenService(settings.jwt_keys)
    return Services(
        settings=settings,
        db=db,
        registry=registry,
        tokens=tokens,
        resolver=TenantResolver(registry, tokens, settings.base_domain),
    )


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    if await services.db.ping():
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
            app.state.services = build_services(settings, database)
            yield
        finally:
            if owned:
                await database.dispose()

    graphql_app = GraphQLEndpoint(schema, graphql_ide="graphiql")
    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", graphql_app, methods=["GET", "POST"]),
        ],
        middleware=[Middleware(RequestIdMiddleware), Middleware(TenantResolutionMiddleware)],
        lifespan=lifespan,
    )
