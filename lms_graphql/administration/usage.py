"""What each tenant uses, per day (UTC), for billing.

Every server meters as it serves: the cost units each operation is charged (GraphQL and REST),
the users it served, the seconds its websockets stay open. It adds them to lms_usage.tenant_days
every FLUSH_SECONDS (and when it stops), so no request writes usage itself. The housekeeping job
sets what is a state, not a flow: the day's distinct active users, the enrolled learners and the
bytes stored. Operators read the days (tenantUsage) or download them as CSV."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from lms_graphql.administration.usage_repository import TenantFootprintRepository, UsageRepository
from lms_graphql.auth import policies
from lms_graphql.auth.viewer import Viewer
from lms_graphql.errors import ErrorCode, LmsError, bad_input
from lms_graphql.kit.db import Database

log = logging.getLogger("lms_graphql.usage")

FLUSH_SECONDS = 30.0
MAX_DAYS = 366
CSV_COLUMNS = (
    "day",
    "tenant_id",
    "tenant_slug",
    "active_users",
    "enrolled_learners",
    "cost_units",
    "websocket_seconds",
    "stored_bytes",
)


_READING: set[asyncio.Future[list[Any]]] = set()


def today() -> date:
    return datetime.now(UTC).date()


class UsageMeter:
    """This process's usage since its last flush."""

    def __init__(self) -> None:
        self._counters: dict[date, dict[uuid.UUID, dict[str, int]]] = {}
        self._users: dict[date, set[tuple[uuid.UUID, uuid.UUID]]] = {}

    def _add(self, day: date, tenant_id: uuid.UUID, name: str, amount: int) -> None:
        self._counters.setdefault(day, defaultdict(lambda: defaultdict(int)))[tenant_id][name] += amount

    def spent(self, tenant_id: uuid.UUID, units: int, user_id: uuid.UUID | None) -> None:
        """An operation charged ``units``, for ``user_id`` (None: anonymous)."""
        day = today()
        self._add(day, tenant_id, "cost_units", units)
        if user_id is not None:
            self._users.setdefault(day, set()).add((tenant_id, user_id))

    def socket_seconds(self, tenant_id: uuid.UUID, seconds: float) -> None:
        if seconds > 0:
            self._add(today(), tenant_id, "websocket_seconds", round(seconds))

    async def flush(self, db: Database) -> None:
        """Adds what was metered to the platform's rows; kept for the next flush if that fails."""
        counters, users = self._counters, self._users
        self._counters, self._users = {}, {}
        try:
            async with db.platform_transaction() as session:
                usage = UsageRepository(session)
                metered = {tenant_id for tenants in counters.values() for tenant_id in tenants}
                metered |= {tenant_id for seen in users.values() for tenant_id, _ in seen}
                known = await usage.registered(metered)  # a tenant purged meanwhile is not billed
                for day, tenants in counters.items():
                    await usage.add(day, {tenant_id: tenants[tenant_id] for tenant_id in tenants if tenant_id in known})
                for day, seen in users.items():
                    await usage.saw(day, sorted(pair for pair in seen if pair[0] in known))
        except Exception:
            for day, tenants in counters.items():
                for tenant_id, amounts in tenants.items():
                    for name, amount in amounts.items():
                        self._add(day, tenant_id, name, amount)
            for day, seen in users.items():
                self._users.setdefault(day, set()).update(seen)
            raise

    async def run(self, db: Database, settle: Any, interval: float = FLUSH_SECONDS) -> None:
        """Flushes every ``interval`` seconds until cancelled, then once more; ``settle()``
        first meters the time of websockets still open."""
        try:
            while True:
                await asyncio.sleep(interval)
                settle()
                try:
                    await self.flush(db)
                except Exception as error:
                    log.warning("usage could not be recorded (%s); the next flush tries again", error)
        finally:  # stopping: what was metered since the last flush is kept too
            settle()
            with contextlib.suppress(Exception):
                await self.flush(db)


async def measure_tenants(db: Database, tenant_ids: list[uuid.UUID], day: date) -> None:
    """The day's gauges of each tenant; one tenant's failure (logged) spares the others."""
    for tenant_id in tenant_ids:
        try:
            async with db.tenant_transaction(tenant_id) as session:
                footprint = TenantFootprintRepository(session, tenant_id)
                learners, stored = await footprint.enrolled_learners(), await footprint.stored_bytes()
            async with db.platform_transaction() as session:
                usage = UsageRepository(session)
                active = await usage.active_count(tenant_id, day)
                gauges = {"active_users": active, "enrolled_learners": learners, "stored_bytes": stored}
                await usage.set_gauges(tenant_id, day, gauges)
        except Exception as error:
            log.warning("measuring the usage of tenant %s failed (%s)", tenant_id, error)
    async with db.platform_transaction() as session:
        await UsageRepository(session).forget_active_before(day - timedelta(days=1))


def checked_range(first: date, last: date) -> None:
    if last < first:
        raise bad_input("to must not be before from")
    if (last - first).days >= MAX_DAYS:
        raise bad_input(f"ask for at most {MAX_DAYS} days at a time")


def require_operator(viewer: Viewer) -> None:
    if not policies.may_manage_tenants(viewer):
        raise LmsError(ErrorCode.FORBIDDEN, "only platform operators see tenants' usage")


async def days(db: Database, first: date, last: date, tenant_id: uuid.UUID | None = None) -> AsyncIterator[Any]:
    """The days ``first`` to ``last`` of every tenant (or one); the caller checked who asks."""
    checked_range(first, last)
    async with (
        db.platform_transaction() as session,
        contextlib.aclosing(UsageRepository(session).days(first, last, tenant_id)) as rows,
    ):
        async for row in rows:
            yield row


async def day_rows(db: Database, first: date, last: date, tenant_id: uuid.UUID | None = None) -> list[Any]:
    """The same days as a list, read to the end even if the caller is cancelled meanwhile (GraphQL
    aborts a query's other fields when one fails): the transaction always ends cleanly."""

    async def read() -> list[Any]:
        return [row async for row in days(db, first, last, tenant_id)]

    task = asyncio.ensure_future(read())
    _READING.add(task)  # held here: a task only a cancelled shield refers to may be collected mid-way
    task.add_done_callback(_READING.discard)
    return await asyncio.shield(task)


def csv_row(row: Any) -> list[Any]:
    return [row.day.isoformat(), row.tenant_id, row.slug, *(getattr(row, name) for name in CSV_COLUMNS[3:])]
