"""What every resolver receives: the tenant, the viewer, and the request's one transaction."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from lms_graphql import models
from lms_graphql.auth.permissions import Permission, permissions_of
from lms_graphql.auth.tokens import TokenService
from lms_graphql.config import Settings
from lms_graphql.errors import ErrorCode, LmsError
from lms_graphql.kit.db import Database
from lms_graphql.tenancy.config import TenantConfig
from lms_graphql.tenancy.registry import TenantRegistry
from lms_graphql.tenancy.resolution import TenantResolver

if TYPE_CHECKING:
    from lms_graphql.events.bus import EventBus
    from lms_graphql.events.live import LiveFeeds
    from lms_graphql.events.relay import OutboxRelay
    from lms_graphql.limits.ratelimit import Limiter
    from lms_graphql.loaders import Loaders

T = TypeVar("T")


@dataclass(frozen=True)
class Services:
    """Process-wide singletons, built in the app's lifespan."""

    settings: Settings
    db: Database
    registry: TenantRegistry
    tokens: TokenService
    resolver: TenantResolver
    bus: EventBus
    relay: OutboxRelay
    live: LiveFeeds
    sockets: SocketCounter
    limiter: Limiter
    gates: TenantGates


class SocketCounter:
    """Open websockets per user in this process, against LMS_WS_MAX_CONNECTIONS_PER_USER."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[uuid.UUID, int] = {}

    def acquire(self, user_id: uuid.UUID) -> bool:
        count = self._open.get(user_id, 0)
        if count >= self.limit:
            return False
        self._open[user_id] = count + 1
        return True

    def release(self, user_id: uuid.UUID) -> None:
        count = self._open.get(user_id, 0) - 1
        if count > 0:
            self._open[user_id] = count
        else:
            self._open.pop(user_id, None)

    @property
    def total(self) -> int:
        return sum(self._open.values())


@dataclass(frozen=True)
class Viewer:
    """The authenticated user as the database says now (not as the token said)."""

    user: models.User
    # Set when a platform operator acts in a tenant other than its own.
    home_tenant_id: uuid.UUID
    cross_tenant: bool = False

    @property
    def id(self) -> uuid.UUID:
        return self.user.id

    @property
    def role(self) -> str:
        return self.user.role

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions_of(self.user.role)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


class _Rollback(Exception):
    pass


GATE_WAIT_SECONDS = 10.0


async def _enter_gate(gate: asyncio.Semaphore) -> None:
    """A tenant's share of the connection pool: beyond it, its requests wait for each other."""
    try:
        async with asyncio.timeout(GATE_WAIT_SECONDS):
            await gate.acquire()
    except TimeoutError:
        raise LmsError(ErrorCode.RATE_LIMITED, "too many concurrent requests for this tenant; retry shortly") from None


class TenantGates:
    """Per tenant and process, how many transactions may be open at once (by plan)."""

    def __init__(self) -> None:
        self._gates: dict[uuid.UUID, asyncio.Semaphore] = {}

    def gate(self, tenant_id: uuid.UUID, size: int) -> asyncio.Semaphore:
        gate = self._gates.get(tenant_id)
        if gate is None:
            gate = self._gates[tenant_id] = asyncio.Semaphore(size)
        return gate


class RequestTransaction:
    """The request's single tenant-bound transaction, opened on first use.

    Strawberry resolves sibling fields concurrently; the lock keeps them from using the
    session at the same time.
    """

    def __init__(
        self,
        db: Database,
        tenant_id: uuid.UUID,
        *,
        statement_timeout_ms: int | None = None,
        gate: asyncio.Semaphore | None = None,
        recorder: list[tuple[str, Any]] | None = None,
    ) -> None:
        self._db = db
        self._tenant_id = tenant_id
        self._timeout = statement_timeout_ms
        self._gate = gate
        self.recorder = recorder
        self._stack: AsyncExitStack | None = None
        self._session: AsyncSession | None = None
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def use(self) -> AsyncIterator[AsyncSession]:
        async with self._lock:
            if self._session is None:
                stack = AsyncExitStack()
                if self._gate is not None:
                    await _enter_gate(self._gate)
                    stack.callback(self._gate.release)
                try:
                    transaction = self._db.tenant_transaction(
                        self._tenant_id, statement_timeout_ms=self._timeout, recorder=self.recorder
                    )
                    self._session = await stack.enter_async_context(transaction)
                except BaseException:
                    await stack.aclose()
                    raise
                self._stack = stack
            yield self._session

    async def commit(self) -> None:
        stack, self._stack, self._session = self._stack, None, None
        if stack is not None:
            await stack.aclose()

    async def rollback(self) -> None:
        stack, self._stack, self._session = self._stack, None, None
        if stack is not None:
            await stack.__aexit__(_Rollback, _Rollback(), None)


class PerUseTransactions(RequestTransaction):
    """For long-lived websockets: every use is its own short tenant-bound transaction, so a
    subscription never holds a transaction (or a pooled connection) open between events."""

    @asynccontextmanager
    async def use(self) -> AsyncIterator[AsyncSession]:
        async with self._db.tenant_transaction(self._tenant_id) as session:
            yield session


@dataclass
class Context:
    request: Request
    response: Response
    request_id: str
    services: Services
    tenant: TenantConfig
    viewer: Viewer | None
    tx: RequestTransaction
    extra: dict[str, Any] = field(default_factory=dict)
    # Set by the websocket protocols from the connection_init payload.
    connection_params: dict[str, Any] | None = None

    @cached_property
    def loaders(self) -> Loaders:
        from lms_graphql.loaders import Loaders

        return Loaders(self)

    async def once(self, key: str, compute: Callable[[], Awaitable[T]]) -> T:
        """``compute()`` at most once per request, however many resolvers ask concurrently."""
        task = self.extra.get(key)
        if task is None:
            task = asyncio.ensure_future(compute())
            self.extra[key] = task
        result: T = await task
        return result

    def require_viewer(self) -> Viewer:
        if self.viewer is None:
            raise LmsError(ErrorCode.UNAUTHENTICATED, "sign in first: this needs a bearer token")
        return self.viewer

    def require(self, permission: Permission) -> Viewer:
        viewer = self.require_viewer()
        if not viewer.can(permission):
            raise LmsError(ErrorCode.FORBIDDEN, "your role does not allow this")
        return viewer

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self.tx.use() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A mutation's work: all or nothing (a savepoint). The operation boundary audits it."""
        async with self.tx.use() as session, session.begin_nested():
            yield session
