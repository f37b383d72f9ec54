"""Websockets as streams of operations, each authorised and run like an HTTP request.

Every subscribe (graphql-transport-ws) or start (graphql-ws) message is authorised against the
user row and the tenant as they are at that moment; a revoked token or an inactive tenant
closes the socket (4403 and the reason). Queries and mutations go through OperationRunner,
exactly as over HTTP; subscriptions get a context of their own. Revocations published on the
bus close the affected sockets of every process (OpenSockets.revoke). The two protocols'
handlers are in operations/socket_protocols.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

from graphql import OperationType

from lms_graphql.administration.usage import UsageMeter
from lms_graphql.context import Context
from lms_graphql.documents.policy import refuse_untrusted
from lms_graphql.documents.store import Registered
from lms_graphql.errors import ErrorCode, LmsError
from lms_graphql.kit.db import is_database_unavailable
from lms_graphql.kit.graphql import VALIDATED_AGAINST, operation_type
from lms_graphql.limits.plans import limits_for
from lms_graphql.observability import metrics
from lms_graphql.operations.access import record_socket_operation
from lms_graphql.operations.input_checks import request_problem
from lms_graphql.operations.outcome import Outcome, internal, refusal, unavailable
from lms_graphql.operations.runner import OperationCall, OperationRunner
from lms_graphql.tenancy.resolution import ResolutionError

log = logging.getLogger("lms_graphql.sockets")

REVOKED_CLOSE_CODE = 4403
EXPIRED_CLOSE_CODE = 4401
INVALID_MESSAGE_CLOSE_CODE = 4400
TOO_MANY_INITS_CLOSE_CODE = 4429


class OpenSockets:
    """This process's authenticated websockets: at most ``limit`` per user, and closable by
    revocation (a user's sockets, or a whole tenant's)."""

    def __init__(self, limit: int, usage: UsageMeter | None = None) -> None:
        self.limit = limit
        self.usage = usage
        self._by_user: dict[tuple[uuid.UUID, uuid.UUID], set[Context]] = {}

    def add(self, socket: Context) -> bool:
        """Register an authenticated socket; False when its user has ``limit`` open already."""
        assert socket.viewer is not None
        if "socket_key" in socket.extra:
            return True
        key = (socket.viewer.home_tenant_id, socket.viewer.id)
        sockets = self._by_user.setdefault(key, set())
        if len(sockets) >= self.limit:
            return False
        sockets.add(socket)
        socket.extra["socket_key"] = key
        socket.extra["metered_at"] = time.monotonic()
        metrics.socket_opened()
        return True

    def remove(self, socket: Context) -> None:
        key = socket.extra.pop("socket_key", None)
        if key is not None:
            metrics.socket_closed()
            self._meter(socket, time.monotonic())
        sockets = self._by_user.get(key) if key is not None else None
        if sockets is not None:
            sockets.discard(socket)
            if not sockets:
                del self._by_user[key]

    def _meter(self, socket: Context, now: float) -> None:
        """The socket's open time since it was last metered, to its tenant's usage."""
        since = socket.extra.get("metered_at")
        if self.usage is not None and since is not None:
            self.usage.socket_seconds(socket.tenant.id, now - since)
            socket.extra["metered_at"] = now

    def settle(self) -> None:
        """Meter the time of the sockets still open (before a usage flush)."""
        now = time.monotonic()
        for socket in self.all():
            self._meter(socket, now)

    def all(self) -> list[Context]:
        return [socket for sockets in self._by_user.values() for socket in sockets]

    @property
    def total(self) -> int:
        return sum(len(sockets) for sockets in self._by_user.values())

    async def revoke(self, tenant_id: uuid.UUID, user_id: uuid.UUID | None, reason: str) -> int:
        """Close the user's sockets (or, without a user, every socket in or of the tenant)."""
        if user_id is not None:
            targets = list(self._by_user.get((tenant_id, user_id), ()))
        else:
            targets = [
                socket
                for (home, _), sockets in self._by_user.items()
                for socket in sockets
                if tenant_id in (home, socket.tenant.id)
            ]
        closers = [socket.close_socket(reason) for socket in targets if socket.close_socket is not None]
        await asyncio.gather(*closers, return_exceptions=True)
        return len(closers)


async def answer_or_context(
    view: Any,
    socket: Context,
    query: str,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    trusted: Registered | None = None,
) -> Outcome | Context:
    """A query or mutation run to its answer (recorded like an HTTP request), or the context a
    subscription streams with. Raises ResolutionError when the socket's token or tenant no
    longer holds."""
    started = time.perf_counter()
    step = await _answer_or_context(view, socket, query, variables, operation_name, trusted)
    if isinstance(step, Outcome):
        record_socket_operation(socket, operation_name, step, time.perf_counter() - started)
    return step


async def _answer_or_context(
    view: Any,
    socket: Context,
    query: str,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    trusted: Registered | None,
) -> Outcome | Context:
    runner: OperationRunner = view.runner
    services = socket.services
    assert socket.resolution is not None
    problem = request_problem({"query": query, "variables": variables, "operationName": operation_name})
    if problem:
        return refusal(400, problem)
    try:
        kind = await operation_type(query, operation_name, limits_for(socket.resolution.tenant).max_tokens)
    except LmsError as exc:
        return refusal(400, exc.message, exc.code)
    if kind != OperationType.SUBSCRIPTION:
        call = OperationCall(
            resolution=socket.resolution,
            request_id=socket.request_id,
            connection=socket.request,
            query=query,
            variables=variables,
            operation_name=operation_name,
            kind=kind,
            recheck_tenant=True,
            connection_params=socket.connection_params,
            trusted=trusted,
        )
        return await runner.run(services, call)
    try:
        context = await runner.subscription_context(services, socket)
        refuse_untrusted(services.settings, context.tenant, context.viewer, trusted)
        if trusted is not None:
            context.extra[VALIDATED_AGAINST] = trusted.schema_hash
        return context
    except LmsError as exc:  # not trusted here, or the tenant's share of the pool stayed full
        details = {k: v for k, v in exc.extensions.items() if k != "code"}
        return refusal(429 if exc.code == ErrorCode.RATE_LIMITED else 400, exc.message, exc.code, **details)
    except ResolutionError:
        raise
    except Exception as exc:
        if is_database_unavailable(exc):
            return unavailable()
        log.error("subscription of request %s failed to start", socket.request_id, exc_info=exc)
        return internal(socket.request_id)
