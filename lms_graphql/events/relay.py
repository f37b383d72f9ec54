"""The outbox relay: publishes committed domain events to the bus, at least once.

A tenant's events are drained when a transaction that wrote some commits in this process
(``kick``), and by a periodic sweep over every tenant that catches what a crash, a bus outage
or another process left behind. After the first sweep (at start, at full speed) a sweep is
spread over half its interval, and prunes at most hourly: with 10 000 tenants a sweep took
29 s of a core in one burst (12 s without pruning), which doubled request latency while it ran.

Draining takes unpublished rows ``FOR UPDATE SKIP LOCKED``,
publishes them, then marks them published in the same transaction: nothing is lost when two
transactions commit out of order (no ``id > last_seen``), nothing of a rolled-back
transaction exists to publish, and a bus failure rolls the marking back so the events go out
once the bus returns. A crash between publishing and marking publishes again: consumers
dedupe by event id. The sweep also prunes published events after the retention period, and
idempotency keys after theirs, at most once per ``prune_seconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from lms_graphql.audit.repository import IdempotencyRepository
from lms_graphql.events.bus import EventBus
from lms_graphql.events.repository import OutboxRepository, outbox_backlog
from lms_graphql.kit import channels
from lms_graphql.kit.db import Database
from lms_graphql.kit.deferral import forward_home_jobs
from lms_graphql.tenancy.service import active_tenant_ids, placed_tenant_ids

log = logging.getLogger("lms_graphql.relay")

BATCH = 500
# Above this many recipients one "everybody re-read" message replaces per-user messages.
MAX_NAMED_RECIPIENTS = 100
SWEEP_LOCK = 7_310_001  # pg advisory lock key: one sweeping process at a time


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        bus: EventBus,
        *,
        sweep_seconds: float = 300.0,
        retention: timedelta = timedelta(days=7),
        workers: int = 4,
        prune_seconds: float = 3600.0,
    ) -> None:
        self._db = db
        self._bus = bus
        self._sweep_seconds = sweep_seconds
        self._prune_seconds = prune_seconds
        self._pruned_at: float | None = None
        self._retention = retention
        self._pending: asyncio.Queue[uuid.UUID] = asyncio.Queue()
        self._queued: set[uuid.UUID] = set()
        self._busy: set[uuid.UUID] = set()
        self._again: set[uuid.UUID] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._workers = workers
        self.published = 0
        # Told, after each batch is published and marked, how long its events waited (seconds).
        self.on_published: Callable[[list[float]], None] | None = None
        self.swept = asyncio.Event()  # set after the first full sweep

    def kick(self, tenant_id: uuid.UUID) -> None:
        """A transaction of ``tenant_id`` that wrote events has committed."""
        if tenant_id in self._busy:
            self._again.add(tenant_id)
        elif tenant_id not in self._queued:
            self._queued.add(tenant_id)
            self._pending.put_nowait(tenant_id)

    async def idle(self) -> None:
        """Until the first sweep is over and every kicked tenant has been drained."""
        await self.swept.wait()
        await self._pending.join()

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._work(), name=f"relay-{n}") for n in range(self._workers)]
        self._tasks.append(asyncio.create_task(self._sweep_forever(), name="relay-sweep"))

    async def stop(self, flush_seconds: float = 5.0) -> None:
        """Publish what is pending (for at most ``flush_seconds``), then stop."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(flush_seconds):
                await self._pending.join()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _work(self) -> None:
        while True:
            tenant_id = await self._pending.get()
            self._queued.discard(tenant_id)
            self._busy.add(tenant_id)
            try:
                await self.drain(tenant_id)
            except Exception as exc:
                _reraise_cancellation(exc)
                log.warning("publishing events of tenant %s failed (%s); will retry", tenant_id, exc)
                await asyncio.sleep(1.0)
                self._again.add(tenant_id)
            finally:
                self._busy.discard(tenant_id)
            if tenant_id in self._again:
                self._again.discard(tenant_id)
                self.kick(tenant_id)
            self._pending.task_done()

    async def drain(self, tenant_id: uuid.UUID) -> int:
        """Publish every unpublished event of the tenant; returns how many."""
        total = 0
        while True:
            async with self._db.tenant_transaction(tenant_id) as session:
                if session.info.get("read_only"):
                    return total  # frozen for a move: published from its new home
                outbox = OutboxRepository(session, tenant_id)
                rows = await outbox.unpublished(BATCH)
                if not rows:
                    return total
                picked = time.monotonic()
                recipients = {
                    r.event_id: r for r in await outbox.recipients([row.id for row in rows], MAX_NAMED_RECIPIENTS + 1)
                }
                for row in rows:
                    await self._publish(tenant_id, row, recipients.get(row.id))
                await outbox.mark_published([row.id for row in rows])
            total += len(rows)
            self.published += len(rows)
            if self.on_published is not None:
                waited = time.monotonic() - picked
                self.on_published([float(row.age_seconds) + waited for row in rows])
            if len(rows) < BATCH:
                return total

    async def backlog(self) -> tuple[int, float]:
        """Events of active tenants waiting to be published, and the oldest one's age in seconds:
        the pool's, and each bridge's and silo's in its home (outbox_backlog() is in every home)."""
        async with self._db.platform_transaction() as session:
            events, oldest = await outbox_backlog(session)
            placed = await placed_tenant_ids(session)
        for tenant_id in placed:
            try:
                async with self._db.tenant_transaction(tenant_id) as session:
                    more, age = await outbox_backlog(session)
            except Exception as exc:  # a home unreachable from here: the others still count
                log.warning("the outbox backlog of tenant %s could not be read (%s)", tenant_id, exc)
                continue
            events, oldest = events + more, max(oldest, age)
        return events, oldest

    async def _publish(self, tenant_id: uuid.UUID, row: object, recipients: object) -> None:
        event_id: uuid.UUID = row.id  # type: ignore[attr-defined]
        event_type: str = row.event_type  # type: ignore[attr-defined]
        message = channels.event_message(event_id, event_type)
        course_id = row.course_id  # type: ignore[attr-defined]
        if course_id is not None:
            await self._bus.publish(channels.course(tenant_id, course_id), message)
        if recipients is not None:
            if recipients.total > MAX_NAMED_RECIPIENTS:  # type: ignore[attr-defined]
                await self._bus.publish(channels.all_users(tenant_id), message)
            else:
                for user_id in recipients.users:  # type: ignore[attr-defined]
                    await self._bus.publish(channels.user(tenant_id, user_id), message)

    async def _sweep_forever(self) -> None:
        paced = False
        while True:
            try:
                await self.sweep(spread_over=self._sweep_seconds / 2 if paced else 0.0)
                paced = True
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                _reraise_cancellation(exc)
                log.warning("outbox sweep failed (%s)", exc)
            self.swept.set()
            await asyncio.sleep(self._sweep_seconds)

    async def _sweep_tenant(self, tenant_id: uuid.UUID, prune_before: datetime | None) -> None:
        await self.drain(tenant_id)
        home = await self._db.homes.home_of(tenant_id)
        if not home.on_platform_database:
            await forward_home_jobs(self._db, tenant_id, home)  # what a failed forward left
        if prune_before is not None:
            async with self._db.tenant_transaction(tenant_id) as session:
                if session.info.get("read_only"):
                    return  # frozen for a move: pruned next time
                await OutboxRepository(session, tenant_id).prune(prune_before)
                await IdempotencyRepository(session, tenant_id).prune()

    async def sweep(self, spread_over: float = 0.0) -> bool:
        """Drain (and when due, prune) every active tenant, if no other process is sweeping now;
        tenants are spaced evenly over ``spread_over`` seconds."""
        async with self._db.engine.connect() as conn:
            locked = (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": SWEEP_LOCK})).scalar()
            if not locked:
                return False
            try:
                async with self._db.platform_transaction() as session:
                    tenant_ids = await active_tenant_ids(session)
                cutoff = datetime.now(UTC) - self._retention
                prune = self._pruned_at is None or time.monotonic() - self._pruned_at >= self._prune_seconds
                pause = spread_over / len(tenant_ids) if tenant_ids else 0.0
                for tenant_id in tenant_ids:
                    try:
                        await self._sweep_tenant(tenant_id, cutoff if prune else None)
                    except Exception as exc:  # a frozen or unmigrated home: the others go on
                        log.warning("sweeping tenant %s failed (%s); the next sweep retries", tenant_id, exc)
                    await asyncio.sleep(pause)
                if prune:
                    self._pruned_at = time.monotonic()
            finally:
                # A connection that broke has let go of its lock already; what went wrong first
                # (a cancellation, an outage) is what propagates.
                with contextlib.suppress(Exception):
                    await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": SWEEP_LOCK})
                    await conn.commit()
        return True


def _reraise_cancellation(exc: Exception) -> None:
    """A task being cancelled whose cleanup then failed (a statement on a connection that broke)
    sees that failure instead of its CancelledError: stop anyway, or its owner waits forever."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError from exc
