"""Database engines and the one helper that binds a transaction to a tenant."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg
from sqlalchemy import URL, event, exc, make_url, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from lms_graphql.config import Settings
from lms_graphql.kit.binding import HOME_GONE_STATES, TenantBoundSession
from lms_graphql.kit.channels import NOTIFY
from lms_graphql.kit.embedded import start_embedded_postgres
from lms_graphql.kit.homes import MAIN_CLUSTER, Home
from lms_graphql.kit.redaction import redact_database_error
from lms_graphql.kit.session import StatementSafeSession

if TYPE_CHECKING:
    from lms_graphql.kit.clusters import Cluster
    from lms_graphql.kit.home_directory import HomeDirectory

log = logging.getLogger("lms_graphql.db")

# Open engines of silo databases (each its own small pool); the least recently used beyond
# this is disposed, so 1 000 silos do not mean 1 000 pools in every process.
SILO_ENGINES = 32
SILO_POOL_SIZE = 4
SILO_MAX_OVERFLOW = 6
RETIRE_WAIT_SECONDS = 120
# A pooled connection idle this long is pinged before it is used again: the server, a proxy or a
# failover may have closed it meanwhile. One in steady use is not: the ping is a round trip (and
# SQLAlchemy's pre-ping two autocommit switches more) on every request, and a connection that
# breaks anyway answers 503, retryable, while SQLAlchemy invalidates the pool's older connections.
PING_AFTER_IDLE_SECONDS = 1.0


@dataclass(frozen=True)
class DatabaseUrls:
    # Runs migrations, owns the tables. None: this process holds the app login only (a replica
    # that serves, while migrations run elsewhere).
    owner: URL | None
    app: URL  # serves requests as the app role: no superuser, no BYPASSRLS, owns nothing
    app_password_managed: bool  # True when we derive the app login (and set its password)


def normalize_url(raw: str) -> URL:
    url = make_url(raw)
    if url.drivername in ("postgres", "postgresql", "postgresql+psycopg2"):
        url = url.set(drivername="postgresql+psycopg")
    if url.drivername != "postgresql+psycopg":
        raise ValueError(f"unsupported database URL scheme {url.drivername!r}: use postgresql://")
    return url


def resolve_database_urls(settings: Settings) -> DatabaseUrls:
    """Owner and app URLs; starts the embedded server when no database URL is configured. With
    only the app URL (LMS_APP_DATABASE_URL and no LMS_DATABASE_URL), there is no owner login."""
    if settings.app_database_url and not settings.database_url:
        return DatabaseUrls(None, normalize_url(settings.app_database_url), False)
    owner = normalize_url(settings.database_url or start_embedded_postgres(settings.data_dir))
    if settings.app_database_url:
        return DatabaseUrls(owner, normalize_url(settings.app_database_url), False)
    app = owner.set(username=settings.app_role, password=derive_app_password(owner, settings.app_role))
    return DatabaseUrls(owner, app, True)


def derive_app_password(owner: URL, role: str) -> str | None:
    """The app login's password, derived from the owner's so every instance agrees on it.

    Without an owner password (trust, peer or certificate authentication, as the embedded
    server uses) the app login gets none either and authenticates the same way.
    """
    if not owner.password:
        return None
    key = str(owner.password).encode()
    return hmac.new(key, f"lms-graphql app role {role}".encode(), hashlib.sha256).hexdigest()


def is_database_unavailable(error: BaseException | None) -> bool:
    """The database could not be reached or went away (not: a statement failed or timed out)."""
    for _ in range(8):  # the error, its driver error, their causes
        if error is None:
            return False
        if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
            return True
        if isinstance(error, exc.TimeoutError | exc.DisconnectionError | exc.InterfaceError):
            return True  # the pool had no connection to give, or one broke
        if isinstance(error, psycopg.Error):
            # No SQLSTATE: the server never answered. 08: connection exceptions; 57P0x: the
            # server is shutting down or starting; 53300: too many connections. 25006: a write in
            # a transaction bound read-only, the tenant frozen for a move; a home gone after a
            # move (HOME_GONE_STATES), when looking the home up again did not help.
            state = error.sqlstate
            if state == "25006" or state in HOME_GONE_STATES:
                return True
            return isinstance(error, psycopg.OperationalError | psycopg.InterfaceError) and (
                state is None or state.startswith(("08", "57P0")) or state == "53300"
            )
        if isinstance(error, ConnectionError | HomeUnavailableError):
            return True
        error = getattr(error, "orig", None) or error.__cause__
    return False


def _home_gone(error: BaseException) -> bool:
    original = getattr(error, "orig", None)
    return isinstance(original, psycopg.Error) and original.sqlstate in HOME_GONE_STATES


def describe_url(url: URL) -> str:
    """A URL for messages: no password, socket paths shown as such."""
    host = url.host or url.query.get("host") or "local socket"
    port = f":{url.port}" if url.port else ""
    return f"{url.username or ''}@{host}{port}/{url.database or ''}"


def _ping_idle_connections(engine: AsyncEngine) -> None:
    sync = engine.sync_engine
    dialect = sync.dialect

    @event.listens_for(sync, "checkin")
    def _returned(dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(sync, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        returned = record.info.get("returned_at")
        if returned is None or time.monotonic() - returned < PING_AFTER_IDLE_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except psycopg.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):  # type: ignore[arg-type]
                # The pool discards this connection and checks out another (or a new one).
                raise exc.DisconnectionError(str(error)) from error
            raise


def _record_statement(conn: Connection, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
    recorder = conn.info.get("recorder")
    if recorder is not None:
        recorder.append((statement, parameters))


def note_revoked(session: AsyncSession, user_id: uuid.UUID) -> None:
    """``user_id``'s tokens stop working when this transaction commits: its open sockets close."""
    session.info.setdefault("revoked", set()).add(user_id)


class HomeUnavailableError(Exception):
    """A tenant's home cannot serve this now (its schema is behind this code's, or its cluster is
    not configured in this process): answered like a database outage, 503 and worth retrying."""


class Database:
    """The app role's engines and their sessions. Only `tenant_transaction` binds a tenant, and
    it alone chooses where: the engine and schema of the tenant's home (kit/homes.py)."""

    def __init__(
        self,
        app_url: URL,
        *,
        clusters: Mapping[str, Cluster] | None = None,
        pool_size: int = 10,
        max_overflow: int = 10,
        record_statements: bool = False,
        statement_timeout_ms: int | None = None,
        homes: HomeDirectory | None = None,
    ) -> None:
        from lms_graphql.kit.clusters import DEFAULT_REGION, Cluster
        from lms_graphql.kit.home_directory import HomeDirectory

        # What a tenant transaction's statements may take when its caller names no bound.
        self.statement_timeout_ms = statement_timeout_ms
        self._record_statements = record_statements
        self._pool = (pool_size, max_overflow)
        self.engine: AsyncEngine = self._make_engine(app_url, pool_size, max_overflow)
        self.clusters: dict[str, Cluster] = dict(
            clusters or {MAIN_CLUSTER: Cluster(MAIN_CLUSTER, DEFAULT_REGION, app_url, None)}
        )
        self._cluster_engines: dict[str, AsyncEngine] = {MAIN_CLUSTER: self.engine}
        self._silo_engines: OrderedDict[tuple[str, str], AsyncEngine] = OrderedDict()
        self._retired: set[asyncio.Task[None]] = set()
        self._sessions = async_sessionmaker(
            self.engine, class_=StatementSafeSession, sync_session_class=TenantBoundSession, expire_on_commit=False
        )
        # Which home serves which tenant; shared with sibling databases (see `sibling`).
        self.homes: HomeDirectory = homes or HomeDirectory(self.engine)
        # Called with the tenant id after a transaction that wrote domain events committed.
        self.on_events_committed: Callable[[uuid.UUID], None] | None = None
        # Called after a transaction that revoked tokens committed (see note_revoked).
        self.on_revoked: Callable[[uuid.UUID, frozenset[uuid.UUID]], None] | None = None

    def sibling(self, *, pool_size: int, max_overflow: int, statement_timeout_ms: int | None = None) -> Database:
        """Another set of pools on the same clusters, routing tenants as this one does."""
        return Database(
            self.engine.url,
            clusters=self.clusters,
            pool_size=pool_size,
            max_overflow=max_overflow,
            statement_timeout_ms=statement_timeout_ms,
            homes=self.homes,
        )

    def _make_engine(self, url: URL, pool_size: int, max_overflow: int) -> AsyncEngine:
        engine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=10,
            # Errors (and so logs) name the statement, never its values: see kit/redaction.py.
            hide_parameters=True,
        )
        event.listen(engine.sync_engine, "handle_error", redact_database_error)
        _ping_idle_connections(engine)
        if self._record_statements:
            event.listen(engine.sync_engine, "before_cursor_execute", _record_statement)
        return engine

    def engine_for(self, home: Home) -> AsyncEngine:
        """The engine whose connections reach ``home``: one per cluster for the pool and every
        bridge there, one per silo database among the most recently used few."""
        cluster = self.clusters.get(home.cluster)
        if cluster is None:
            raise HomeUnavailableError(f"cluster {home.cluster!r} is not configured in this process (LMS_CLUSTERS)")
        database = home.database
        if database is None:
            engine = self._cluster_engines.get(home.cluster)
            if engine is None:
                engine = self._cluster_engines[home.cluster] = self._make_engine(cluster.app, *self._pool)
            return engine
        key = (home.cluster, database)
        engine = self._silo_engines.get(key)
        if engine is not None:
            self._silo_engines.move_to_end(key)
            return engine
        engine = self._silo_engines[key] = self._make_engine(
            cluster.app.set(database=database), SILO_POOL_SIZE, SILO_MAX_OVERFLOW
        )
        while len(self._silo_engines) > SILO_ENGINES:
            _, retired = self._silo_engines.popitem(last=False)
            self._retire(retired)
        return engine

    def _retire(self, engine: AsyncEngine) -> None:
        """Close an evicted silo engine's pool once its transactions in flight have ended."""

        async def dispose_when_idle() -> None:
            for _ in range(RETIRE_WAIT_SECONDS):
                if engine.sync_engine.pool.checkedout() == 0:  # type: ignore[attr-defined]
                    break
                await asyncio.sleep(1)
            await engine.dispose()

        task = asyncio.get_running_loop().create_task(dispose_when_idle())
        self._retired.add(task)
        task.add_done_callback(self._retired.discard)

    @asynccontextmanager
    async def tenant_transaction(
        self,
        tenant_id: uuid.UUID,
        *,
        statement_timeout_ms: int | None = None,
        recorder: list[tuple[str, Any]] | None = None,
        home: Home | None = None,
    ) -> AsyncIterator[AsyncSession]:
        """One explicit transaction in which RLS sees exactly ``tenant_id``'s rows, in the tenant's
        home (or in ``home``, which only a placement move names)."""
        async with AsyncExitStack() as stack:
            bound = statement_timeout_ms or self.statement_timeout_ms
            session = await self._begin_bound(stack, tenant_id, bound, recorder, home)
            yield session
        # Committed.
        if session.info.get("events_written") and self.on_events_committed is not None:
            self.on_events_committed(tenant_id)
        revoked = session.info.get("revoked")
        if revoked and self.on_revoked is not None:
            self.on_revoked(tenant_id, frozenset(revoked))
        notices = session.info.get("control_notices")
        if notices:
            await self._notify_platform(notices)
        used: Home = session.info["home"]
        if session.info.get("jobs_deferred") and not used.on_platform_database:
            await self._forward_jobs(tenant_id, used)

    async def _begin_bound(
        self,
        stack: AsyncExitStack,
        tenant_id: uuid.UUID,
        statement_timeout_ms: int | None,
        recorder: list[tuple[str, Any]] | None,
        named: Home | None,
    ) -> AsyncSession:
        """A session in the tenant's home, its transaction begun and bound at once: a home the
        tenant has moved away from answers there (HOME_GONE_STATES), and is looked up again. So
        is a pooled connection found broken (a silo database dropped after a move closes them):
        nothing ran in the transaction yet, so trying again is safe."""
        for attempt in range(2):
            home = named or await self.homes.home_of(tenant_id)
            if named is None:
                await self.homes.ensure_serving(home, self.engine_for)
            opened = AsyncExitStack()
            session = await opened.enter_async_context(self._sessions(bind=self.engine_for(home)))
            session.info.update(
                tenant_id=tenant_id,
                statement_timeout_ms=statement_timeout_ms,
                recorder=recorder,
                schema=home.schema,
                placement=home.placement,
                home=home,
            )
            await opened.enter_async_context(session.begin())
            try:
                await session.connection()
            except exc.DBAPIError as error:
                await opened.__aexit__(type(error), error, error.__traceback__)
                if named is not None or attempt or not (_home_gone(error) or error.connection_invalidated):
                    raise
                self.homes.forget(tenant_id)
                continue
            except BaseException as error:  # cancelled while connecting: give the session back
                await opened.__aexit__(type(error), error, error.__traceback__)
                raise
            await stack.enter_async_context(opened)
            return session
        raise AssertionError("unreachable")

    async def _notify_platform(self, payloads: list[tuple[str, str]]) -> None:
        """NOTIFYs a transaction in another database asked for: the processes listen on the
        platform database (kit/channels.py)."""
        try:
            async with self.engine.connect() as conn:
                for wire, payload in payloads:
                    await conn.execute(NOTIFY, {"wire": wire, "payload": payload})
                await conn.commit()
        except Exception as exc:  # committed already; caches expire on their own
            log.warning("announcing a change on the platform database failed (%s)", exc)

    async def _forward_jobs(self, tenant_id: uuid.UUID, home: Home) -> None:
        from lms_graphql.kit.deferral import forward_home_jobs

        try:
            await forward_home_jobs(self, tenant_id, home)
        except Exception as exc:  # committed already: the relay's sweep forwards them later
            log.warning("forwarding the jobs of tenant %s failed (%s); the sweep will", tenant_id, exc)

    @asynccontextmanager
    async def platform_transaction(self) -> AsyncIterator[AsyncSession]:
        """A transaction bound to no tenant: the registry only; tenant tables read as empty."""
        async with self._sessions() as session, session.begin():
            yield session

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def role_attributes(self) -> dict[str, Any]:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
                )
            ).one()
        return dict(row._mapping)

    async def dispose(self) -> None:
        engines = [*self._cluster_engines.values(), *self._silo_engines.values()]
        self._cluster_engines.clear()
        self._silo_engines.clear()
        for engine in engines:
            await engine.dispose()
