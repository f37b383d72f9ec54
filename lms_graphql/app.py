"""The ASGI application: services in the lifespan, health probes, GraphQL."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from lms_graphql import file_routes
from lms_graphql.administration import routes as report_routes
from lms_graphql.administration.usage import UsageMeter
from lms_graphql.auth.tokens import TokenService
from lms_graphql.config import Settings
from lms_graphql.context import Services
from lms_graphql.documents.store import DocumentStore
from lms_graphql.endpoint import GraphQLEndpoint
from lms_graphql.errors import ErrorCode
from lms_graphql.events.backends import PostgresNotifyBackend, backend_for
from lms_graphql.events.bus import EventBus
from lms_graphql.events.live import LiveFeeds
from lms_graphql.events.relay import OutboxRelay
from lms_graphql.graphiql import APIDOCS, ASSETS_PATH, BundleAssets
from lms_graphql.jobs.queue import JobServices, job_queue, supervise_worker
from lms_graphql.kit import channels
from lms_graphql.kit.channels import CONTROL_WIRE_CHANNEL
from lms_graphql.kit.clusters import open_database
from lms_graphql.kit.db import Database, resolve_database_urls
from lms_graphql.kit.transaction import TenantGates
from lms_graphql.limits.plans import PLAN_LIMITS
from lms_graphql.limits.ratelimit import limiter_for
from lms_graphql.observability import metrics
from lms_graphql.operations import revocations
from lms_graphql.operations.access import AccessMiddleware
from lms_graphql.operations.middleware import (
    HttpSurfaceMiddleware,
    RequestIdMiddleware,
    TenantPathMiddleware,
    TenantResolutionMiddleware,
)
from lms_graphql.operations.outcome import refusal, response_of
from lms_graphql.operations.sockets import OpenSockets
from lms_graphql.privacy import routes as privacy_routes
from lms_graphql.rest.app import PREFIX as REST_PREFIX
from lms_graphql.rest.app import create_rest_app
from lms_graphql.schema import build_schema
from lms_graphql.server import drain_on_hangup, settle_collector
from lms_graphql.storage.backends import storage_for
from lms_graphql.tenancy.registry import TenantRegistry
from lms_graphql.tenancy.resolution import TenantResolver

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
    app_conninfo = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    bus = EventBus(backend_for(settings.broadcast_url or "memory://", app_conninfo), queue_size=settings.bus_queue_size)
    control = EventBus(PostgresNotifyBackend(app_conninfo, CONTROL_WIRE_CHANNEL), queue_size=settings.bus_queue_size)
    relay = OutboxRelay(
        db,
        bus,
        sweep_seconds=settings.outbox_sweep_seconds,
        retention=timedelta(days=settings.outbox_retention_days),
    )
    relay.on_published = metrics.observe_publish_delays
    # Fan-out re-reads get their own small pool (a burst of deliveries must not take the
    # connections HTTP requests need), their statements bounded like a free tenant's.
    live_db = db.sibling(pool_size=4, max_overflow=2, statement_timeout_ms=LIVE_TIMEOUT_MS)
    metrics.watch_pool(db.engine, "requests")
    metrics.watch_pool(live_db.engine, "live")
    usage = UsageMeter()
    return Services(
        usage=usage,
        settings=settings,
        db=db,
        registry=registry,
        tokens=tokens,
        resolver=TenantResolver(registry, tokens, settings.base_domain),
        bus=bus,
        control=control,
        relay=relay,
        live=LiveFeeds(live_db, bus),
        sockets=OpenSockets(settings.ws_max_connections_per_user, usage),
        limiter=limiter_for(settings.rate_limit_url),
        gates=TenantGates(),
        documents=DocumentStore(db),
        storage=storage_for(settings),
    )


LIVE_TIMEOUT_MS = PLAN_LIMITS["free"].statement_timeout_ms


@asynccontextmanager
async def running(services: Services) -> AsyncIterator[None]:
    """The buses, the relay, and the feeds of tenant changes and revocations, for the app's lifetime."""
    await services.bus.start()
    await services.control.start()
    services.db.on_events_committed = services.relay.kick
    await services.relay.start()

    background: set[asyncio.Task[None]] = set()
    revocations.publish_after_commit(services, background)

    async def forget_tenant(slug: str) -> None:
        tenant_id = services.registry.invalidate(slug)
        if tenant_id is not None:  # moved, perhaps: what its old home left unpublished, from the new
            services.relay.kick(tenant_id)
        await revocations.close_sockets_of_switched_off_feeds(services, slug)

    async def forget_all_tenants() -> None:
        services.registry.clear()

    async def forget_documents(message: str) -> None:
        services.documents.forget(message)

    async def forget_all_documents() -> None:
        services.documents.clear()

    async def close_revoked(message: str) -> None:
        await revocations.close_revoked_sockets(services, message)

    async def authorise_sockets() -> None:
        await revocations.authorise_open_sockets(services)

    # Tenant changes and revocations made anywhere (other processes, the CLI) reach this one.
    followers = [
        asyncio.create_task(
            revocations.follow(services, channels.REGISTRY, forget_tenant, forget_all_tenants), name="registry"
        ),
        asyncio.create_task(
            revocations.follow(services, channels.REVOCATIONS, close_revoked, authorise_sockets), name="revocations"
        ),
        asyncio.create_task(
            revocations.follow(services, channels.DOCUMENTS, forget_documents, forget_all_documents), name="documents"
        ),
    ]
    followers.append(asyncio.create_task(services.usage.run(services.db, services.sockets.settle), name="usage"))
    if services.settings.worker == "in-process":
        jobs, concurrency = JobServices(services.db, services.storage), services.settings.worker_concurrency
        worker = supervise_worker(
            lambda: job_queue(services.db.engine.url, jobs, pool_size=concurrency + 2), concurrency=concurrency
        )
        followers.append(asyncio.create_task(worker, name="job-worker"))
    try:
        yield
    finally:
        for follower in followers:
            follower.cancel()
        await asyncio.gather(*followers, return_exceptions=True)
        services.db.on_revoked = None
        services.db.on_events_committed = None
        await services.relay.stop()
        await services.bus.stop()
        await services.control.stop()
        await services.live.dispose()
        await services.limiter.close()


async def root(request: Request) -> RedirectResponse:
    """Someone who opened the server's address: GraphiQL is at /graphql."""
    return RedirectResponse("/graphql", status_code=307)


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def metrics_page(request: Request) -> Response:
    """Prometheus text for a scraper holding the bearer token LMS_METRICS_TOKEN; without
    the setting, metrics are not served."""
    services: Services = request.app.state.services
    token = services.settings.metrics_token
    if token is None:
        return response_of(refusal(404, "metrics are turned off: set LMS_METRICS_TOKEN", ErrorCode.NOT_FOUND))
    scheme, _, offered = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(offered.strip().encode(), token.encode()):
        return response_of(refusal(401, "send the metrics token as a bearer token", ErrorCode.UNAUTHENTICATED))
    try:
        backlog = await services.relay.backlog()
    except Exception as exc:  # the rest of the metrics are still worth answering
        log.warning("metrics: the outbox backlog could not be read (%s)", type(exc).__name__)
        backlog = None
    return Response(metrics.exposition(backlog), media_type=metrics.CONTENT_TYPE)


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
        owned = db is None  # a server's app (not a test's, which brings its database)
        database = db or open_database(settings, resolve_database_urls(settings), record_statements=settings.bench)
        restore_hangup = drain_on_hangup() if owned else None
        try:
            await ensure_app_role_is_confined(database)
            app.state.services = build_services(settings, database)
            async with running(app.state.services):
                metrics.worker_started()
                if owned:
                    settle_collector()
                yield
        finally:
            metrics.worker_stopped()
            if owned:
                await database.dispose()
            if restore_hangup is not None:
                restore_hangup()

    graphql_app = GraphQLEndpoint(
        build_schema(introspection=settings.introspection),
        graphql_ide="graphiql" if settings.graphiql else None,
        max_subscriptions_per_connection=settings.ws_max_subscriptions,
        connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout_seconds),
    )
    routes: list[BaseRoute] = [
        Route("/", root),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics_page),
        Route("/graphql", graphql_app, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql_app),
    ]
    routes += file_routes.routes
    routes += privacy_routes.routes
    routes += report_routes.routes
    rest = create_rest_app(docs=settings.graphiql)
    routes.append(Mount(REST_PREFIX, rest))
    if settings.graphiql:
        routes.append(Mount(ASSETS_PATH, BundleAssets(), name="graphiql"))
        routes.append(Mount(APIDOCS.path, BundleAssets(APIDOCS), name="apidocs"))
    application = Starlette(
        routes=routes,
        middleware=[
            Middleware(RequestIdMiddleware),
            # Before everything that looks at the path: the layers below see /graphql, /api/v1.
            *([Middleware(TenantPathMiddleware)] if settings.tenant_path_prefix else []),
            Middleware(AccessMiddleware),
            Middleware(HttpSurfaceMiddleware, max_body=settings.max_body_bytes),
            Middleware(TenantResolutionMiddleware),
        ],
        lifespan=lifespan,
    )
    rest.state.root = application  # the services live in the root app's state (its lifespan)
    return application
