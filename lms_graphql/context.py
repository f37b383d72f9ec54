"""What every resolver receives: the tenant, the viewer, and the request's one transaction."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

import strawberry
from graphql import FragmentDefinitionNode, OperationDefinitionNode
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from lms_graphql.administration.usage import UsageMeter
from lms_graphql.auth.permissions import Permission
from lms_graphql.auth.tokens import TokenService
from lms_graphql.auth.viewer import Viewer
from lms_graphql.config import Settings
from lms_graphql.errors import ErrorCode, LmsError
from lms_graphql.kit.db import Database
from lms_graphql.kit.transaction import RequestTransaction, TenantGates
from lms_graphql.tenancy.registry import TenantRegistry
from lms_graphql.tenancy.resolution import Resolution, TenantResolver
from lms_graphql.tenancy.tenant import TenantConfig

if TYPE_CHECKING:
    from lms_graphql.documents.store import DocumentStore
    from lms_graphql.events.bus import EventBus
    from lms_graphql.events.live import LiveFeeds
    from lms_graphql.events.relay import OutboxRelay
    from lms_graphql.limits.ratelimit import Limiter
    from lms_graphql.loaders import Loaders
    from lms_graphql.operations.sockets import OpenSockets
    from lms_graphql.storage.backends import Storage

T = TypeVar("T")


@dataclass(frozen=True)
class Services:
    """Process-wide singletons, built in the app's lifespan."""

    settings: Settings
    db: Database
    registry: TenantRegistry
    tokens: TokenService
    resolver: TenantResolver
    bus: EventBus  # live events (LMS_BROADCAST_URL)
    control: EventBus  # registry changes and revocations, over the database
    relay: OutboxRelay
    live: LiveFeeds
    sockets: OpenSockets
    limiter: Limiter
    gates: TenantGates
    documents: DocumentStore  # registered documents and automatic persisted queries
    storage: Storage  # content: the object store and the signer of the URLs this server serves
    usage: UsageMeter = field(default_factory=UsageMeter)  # what each tenant used, flushed every 30 s


@dataclass(frozen=True)
class Charge:
    """What QueryLimits charged an operation, for the transport to report (headers, status)."""

    cost: int
    remaining: int | None = None
    retry_after: int | None = None


@dataclass(eq=False)  # identity: a socket's context is kept in sets
class Context:
    request: HTTPConnection  # the HTTP request, or the websocket the operation came over
    request_id: str
    services: Services
    tenant: TenantConfig
    viewer: Viewer | None
    tx: RequestTransaction
    extra: dict[str, Any] = field(default_factory=dict)
    # Set by the websocket protocols from the connection_init payload.
    connection_params: dict[str, Any] | None = None
    # How the tenant and token were found: kept by a websocket to authorise each operation.
    resolution: Resolution | None = None
    # The operation being executed and its document's fragments (set once the document is
    # valid, before limits are checked) and what it was charged.
    operation: OperationDefinitionNode | None = None
    fragments: dict[str, FragmentDefinitionNode] = field(default_factory=dict)
    charge: Charge | None = None
    # A websocket's own way to end itself (4403 and a reason), for revocations.
    close_socket: Callable[[str], Awaitable[None]] | None = None

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


Info = strawberry.Info[Context, None]
"""What every resolver's ``info`` is."""
