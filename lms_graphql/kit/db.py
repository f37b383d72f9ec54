"""Database engines and the one helper that binds a transaction to a tenant."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import URL, event, exc, make_url, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, SessionTransaction

from lms_graphql.config import Settings
from lms_graphql.kit.embedded import start_embedded_postgres
from lms_graphql.kit.redaction import redact_database_error
from lms_graphql.kit.session import StatementSafeSession

TENANT_SETTING = "app.current_tenant_id"
_BIND = "SELECT set_config(%(name)s, %(tenant)s, true)"
# One round trip for both: the tenant, and how long any statement of the request may run.
_BIND_WITH_TIMEOUT = "SELECT set_config(%(name)s, %(tenant)s, true), set_config('statement_timeout', %(timeout)s, true)"
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
            # server is shutting down or starting; 53300: too many connections.
            state = error.sqlstate
            return isinstance(error, psycopg.OperationalError | psycopg.InterfaceError) and (
                state is None or state.startswith(("08", "57P0")) or state == "53300"
            )
        if isinstance(error, ConnectionError):
            return True
        error = getattr(error, "orig", None) or error.__cause__
    return False


def describe_url(url: URL) -> str:
    """A URL for messages: no password, socket paths shown as such."""
    host = url.host or url.query.get("host") or "local socket"
    port = f":{url.port}" if url.port else ""
    return f"{url.username or ''}@{host}{port}/{url.database or ''}"


class TenantBoundSession(Session):
    """Sync half of the async session; binds every transaction it begins (see below)."""


@event.listens_for(TenantBoundSession, "after_begin")
def _bind_tenant(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
    # set_config(..., is_local => true) lasts until this transaction ends, so a pooled
    # connection can never carry one request's tenant into the next.
    # Benchmarks record a request's statements (Database(record_statements=True) only).
    connection.info["recorder"] = session.info.get("recorder")
    tenant_id = session.info.get("tenant_id")
    if tenant_id is None:
        return
    timeout = session.info.get("statement_timeout_ms")
    if timeout is None:
        connection.exec_driver_sql(_BIND, {"name": TENANT_SETTING, "tenant": str(tenant_id)})
    else:
        connection.exec_driver_sql(
            _BIND_WITH_TIMEOUT, {"name": TENANT_SETTING, "tenant": str(tenant_id), "timeout": f"{int(timeout)}ms"}
        )


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


class Database:
    """The app role's engine and its sessions. Only `tenant_transaction` binds a tenant."""

    def __init__(
        self,
        app_url: URL,
        *,
        pool_size: int = 10,
        max_overflow: int = 10,
        record_statements: bool = False,
        statement_timeout_ms: int | None = None,
    ) -> None:
        # What a tenant transaction's statements may take when its caller names no bound.
        self.statement_timeout_ms = statement_timeout_ms
        self.engine: AsyncEngine = create_async_engine(
            app_url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=10,
            # Errors (and so logs) name the statement, never its values: see kit/redaction.py.
            hide_parameters=True,
        )
        event.listen(self.engine.sync_engine, "handle_error", redact_database_error)
        _ping_idle_connections(self.engine)
        self._sessions = async_sessionmaker(
            self.engine, class_=StatementSafeSession, sync_session_class=TenantBoundSession, expire_on_commit=False
        )
        if record_statements:
            event.listen(self.engine.sync_engine, "before_cursor_execute", _record_statement)
        # Called with the tenant id after a transaction that wrote domain events committed.
        self.on_events_committed: Callable[[uuid.UUID], None] | None = None
        # Called after a transaction that revoked tokens committed (see note_revoked).
        self.on_revoked: Callable[[uuid.UUID, frozenset[uuid.UUID]], None] | None = None

    @asynccontextmanager
    async def tenant_transaction(
        self,
        tenant_id: uuid.UUID,
        *,
        statement_timeout_ms: int | None = None,
        recorder: list[tuple[str, Any]] | None = None,
    ) -> AsyncIterator[AsyncSession]:
        """One explicit transaction in which RLS sees exactly ``tenant_id``'s rows."""
        async with self._sessions() as session:
            session.info["tenant_id"] = tenant_id
            session.info["statement_timeout_ms"] = statement_timeout_ms or self.statement_timeout_ms
            session.info["recorder"] = recorder
            async with session.begin():
                yield session
            if session.info.get("events_written") and self.on_events_committed is not None:
                self.on_events_committed(tenant_id)
            revoked = session.info.get("revoked")
            if revoked and self.on_revoked is not None:
                self.on_revoked(tenant_id, frozenset(revoked))

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
        await self.engine.dispose()
