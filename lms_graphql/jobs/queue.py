"""The queue's tasks and its worker. A task's arguments name its tenant; its work runs in that
tenant's transactions (Database.tenant_transaction), as a request's does, as the app role."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import procrastinate
from procrastinate import JobContext, RetryStrategy
from sqlalchemy.engine import URL

from lms_graphql.administration.usage import measure_tenants
from lms_graphql.assessments.reminders import send_due_reminders
from lms_graphql.kit.db import Database
from lms_graphql.media.service import transcode_lesson_video
from lms_graphql.privacy.exports import EXPORT_QUEUE, EXPORT_TASK, build_export, forget_expired
from lms_graphql.storage import keys
from lms_graphql.storage.backends import Storage
from lms_graphql.storage.service import (
    DELETE_QUEUE,
    DELETE_TASK,
    TRANSCODE_QUEUE,
    TRANSCODE_TASK,
    sweep_abandoned_uploads,
)
from lms_graphql.tenancy.service import active_tenant_ids

log = logging.getLogger("lms_graphql.jobs")

QUEUES = (TRANSCODE_QUEUE, DELETE_QUEUE, "reminders", EXPORT_QUEUE)
REMINDER_TASK = "assessments.remind_due"
TRANSCODE_ATTEMPTS = 3
# Seconds before the next attempt: 5, then 25 (procrastinate adds exponential_wait ** attempts).
TRANSCODE_RETRY = RetryStrategy(max_attempts=TRANSCODE_ATTEMPTS, exponential_wait=5)
DELETE_RETRY = RetryStrategy(max_attempts=8, exponential_wait=3)
REMINDER_CRON = "*/5 * * * *"
HOUSEKEEPING_TASK = "jobs.housekeeping"
HOUSEKEEPING_CRON = "*/10 * * * *"
STALLED_SECONDS = 120  # a worker beats every 10 seconds
# On shutdown, running jobs get this long to finish; the rest are aborted (and run again by
# housekeeping, their worker gone).
SHUTDOWN_SECONDS = 20.0


@dataclass(frozen=True)
class JobServices:
    db: Database
    storage: Storage


def conninfo_of(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def job_queue(app_url: URL, services: JobServices, *, pool_size: int = 4) -> procrastinate.App:
    """The queue over the app role's login (procrastinate's tables live in schema procrastinate)."""
    connector = procrastinate.PsycopgConnector(
        conninfo=conninfo_of(app_url),
        kwargs={"options": "-c search_path=procrastinate"},
        min_size=1,
        max_size=pool_size,
    )
    queue = procrastinate.App(connector=connector)
    _register(queue, services)
    return queue


def _register(queue: procrastinate.App, services: JobServices) -> None:
    @queue.task(name=TRANSCODE_TASK, queue=TRANSCODE_QUEUE, retry=TRANSCODE_RETRY, pass_context=True)
    async def transcode(context: JobContext, tenant_id: str, file_id: str) -> None:
        attempts = context.job.attempts if context.job is not None else 0
        await transcode_lesson_video(
            services.db,
            services.storage,
            uuid.UUID(tenant_id),
            uuid.UUID(file_id),
            last_attempt=attempts + 1 >= TRANSCODE_ATTEMPTS,
        )

    @queue.task(name=DELETE_TASK, queue=DELETE_QUEUE, retry=DELETE_RETRY)
    async def delete_objects(tenant_id: str, keys: list[str], prefixes: list[str]) -> None:
        await _delete(services.storage, uuid.UUID(tenant_id), keys, prefixes)

    @queue.task(name=EXPORT_TASK, queue=EXPORT_QUEUE)
    async def export_personal_data(tenant_id: str, export_id: str) -> None:
        await build_export(services.db, services.storage, uuid.UUID(tenant_id), uuid.UUID(export_id))

    @queue.periodic(cron=REMINDER_CRON, periodic_id="due-reminders")
    @queue.task(name=REMINDER_TASK, queue="reminders", queueing_lock=REMINDER_TASK)
    async def remind_due(timestamp: int) -> None:
        await remind_all_tenants(services.db, datetime.fromtimestamp(timestamp, UTC))

    @queue.periodic(cron=HOUSEKEEPING_CRON, periodic_id="housekeeping")
    @queue.task(name=HOUSEKEEPING_TASK, queue="reminders", queueing_lock=HOUSEKEEPING_TASK)
    async def housekeeping(timestamp: int) -> None:
        await keep_house(queue, services, datetime.fromtimestamp(timestamp, UTC))


async def _delete(storage: Storage, tenant_id: uuid.UUID, object_keys: list[str], prefixes: list[str]) -> None:
    mine = keys.tenant_prefix(tenant_id)
    for key in object_keys:
        if key.startswith(mine):
            await storage.store.delete(key)
    for prefix in prefixes:
        if prefix.startswith(mine):
            await storage.store.delete_prefix(prefix)


async def active_tenants(db: Database) -> list[uuid.UUID]:
    async with db.platform_transaction() as session:
        return await active_tenant_ids(session)


async def remind_all_tenants(db: Database, now: datetime) -> int:
    """Each tenant in a transaction of its own: one tenant's failure (logged) spares the others."""
    reminded = 0
    for tenant_id in await active_tenants(db):
        try:
            async with db.tenant_transaction(tenant_id) as session:
                reminded += await send_due_reminders(session, tenant_id, now)
        except Exception as error:
            log.warning("reminding learners of tenant %s failed (%s); the next run tries again", tenant_id, error)
    if reminded:
        log.info("reminded %d learners of assessments due within 24 hours", reminded)
    return reminded


async def keep_house(queue: procrastinate.App, services: JobServices, now: datetime) -> None:
    """Jobs whose worker died (its heartbeat stopped: a killed process) run again; uploads
    never confirmed are removed a day after their ticket expired, data exports once expired;
    each tenant's usage of the day is measured."""
    db = services.db
    for job in await queue.job_manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_SECONDS):
        log.warning("job %s (%s) was running on a worker that died: running it again", job.id, job.task_name)
        await queue.job_manager.retry_job(job)
    for tenant_id in await active_tenants(db):
        try:
            async with db.tenant_transaction(tenant_id) as session:
                await sweep_abandoned_uploads(session, tenant_id, now)
            await forget_expired(db, services.storage, tenant_id, now)
        except Exception as error:
            log.warning("sweeping abandoned uploads and exports of tenant %s failed (%s)", tenant_id, error)
    await measure_tenants(db, await active_tenants(db), now.date())


async def supervise_worker(
    make_queue: Callable[[], procrastinate.App],
    *,
    concurrency: int,
    first_pause: float = 1.0,
    longest_pause: float = 30.0,
) -> None:
    """A worker for the life of the process: procrastinate stops its worker when the database
    connection it listens on breaks (an outage, a failover); this starts another, pausing
    longer each time (up to ``longest_pause``) while it keeps failing."""
    pause = first_pause
    while True:
        started = time.monotonic()
        try:
            await run_worker(make_queue(), concurrency=concurrency)
            reason = "it returned"
        except asyncio.CancelledError:
            raise
        except Exception as error:
            reason = f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
        if time.monotonic() - started > 60:
            pause = first_pause  # it had been working: a new failure
        log.warning("the job worker stopped (%s); starting it again in %.0f s", reason, pause)
        await asyncio.sleep(pause)
        pause = min(pause * 2, longest_pause)


async def run_worker(queue: procrastinate.App, *, concurrency: int, wait: bool = True, signals: bool = False) -> None:
    """Runs jobs until cancelled (``wait``) or until none is left (not ``wait``); ``signals``:
    SIGINT/SIGTERM finish the running jobs, then stop (a worker process of its own)."""
    async with queue.open_async():
        await queue.run_worker_async(
            queues=list(QUEUES),
            concurrency=concurrency,
            wait=wait,
            install_signal_handlers=signals,
            shutdown_graceful_timeout=SHUTDOWN_SECONDS,
            name="lms-graphql",
        )
