"""An operation's one tenant-bound transaction, and each tenant's share of the pool."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import psycopg
from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql.errors import ErrorCode, LmsError
from lms_graphql.kit.db import Database

GATE_WAIT_SECONDS = 10.0


class CommitFailed(Exception):
    """The transaction could not commit: nothing it wrote was kept."""


class _Rollback(Exception):
    pass


async def _enter_gate(gate: asyncio.Semaphore) -> None:
    """A tenant's share of the connection pool: beyond it, its requests wait for each other."""
    try:
        async with asyncio.timeout(GATE_WAIT_SECONDS):
            await gate.acquire()
    except TimeoutError:
        raise LmsError(
            ErrorCode.RATE_LIMITED,
            "too many concurrent requests for this tenant; retry shortly",
            retryable=True,
            retryAfter=1,
        ) from None


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
    """An operation's single tenant-bound transaction, opened on first use.

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
        # Committed or rolled back: a task that outlived its operation (a sibling of a failed
        # field, still waiting for the lock) must not open a second transaction nobody ends.
        self._ended = False

    @asynccontextmanager
    async def _opened(self) -> AsyncIterator[AsyncSession]:
        async with AsyncExitStack() as stack:
            if self._gate is not None:
                await _enter_gate(self._gate)
                stack.callback(self._gate.release)
            transaction = self._db.tenant_transaction(
                self._tenant_id, statement_timeout_ms=self._timeout, recorder=self.recorder
            )
            yield await stack.enter_async_context(transaction)

    @asynccontextmanager
    async def use(self) -> AsyncIterator[AsyncSession]:
        async with self._lock:
            if self._ended:
                raise LmsError(ErrorCode.INTERNAL, "this operation is over: its transaction has ended")
            if self._session is None:
                stack = AsyncExitStack()
                try:
                    self._session = await stack.enter_async_context(self._opened())
                except BaseException:
                    await stack.aclose()
                    raise
                self._stack = stack
            yield self._session

    @property
    def opened(self) -> bool:
        return self._session is not None

    async def commit(self) -> None:
        """Commit what the operation did, or raise CommitFailed: never assume it happened."""
        stack, session = self._stack, self._session
        self._stack = self._session = None
        self._ended = True
        if stack is None or session is None:
            return
        transaction = session.sync_session.get_transaction()
        if transaction is None or not transaction.is_active or await _aborted_in_postgresql(session):
            # A failed flush, or a failed statement outside a savepoint, ended the transaction:
            # what it wrote is gone, and PostgreSQL would answer COMMIT with a silent ROLLBACK.
            await stack.__aexit__(_Rollback, _Rollback(), None)
            raise CommitFailed("the transaction was rolled back by an earlier failure")
        try:
            await stack.aclose()
        except Exception as exc:
            raise CommitFailed(str(exc)) from exc

    async def rollback(self) -> None:
        stack, self._stack, self._session = self._stack, None, None
        self._ended = True
        if stack is not None:
            await stack.__aexit__(_Rollback, _Rollback(), None)


async def _aborted_in_postgresql(session: AsyncSession) -> bool:
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    return bool(driver.info.transaction_status == psycopg.pq.TransactionStatus.INERROR)


class PerUseTransactions(RequestTransaction):
    """For subscriptions: every use is its own short tenant-bound transaction (with the plan's
    statement timeout and the tenant's gate), so a subscription never holds a transaction, or a
    pooled connection, open between events. Subscriptions only read."""

    @asynccontextmanager
    async def use(self) -> AsyncIterator[AsyncSession]:
        async with self._opened() as session:
            yield session
