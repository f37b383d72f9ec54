"""Deferring a job inside the caller's transaction (migration 0015): the job exists if and only
if the change that needs it commits; the worker hears of it at that commit (NOTIFY).

A silo tenant's transaction (or a bridge's on another cluster) defers into its own database's
queue, where no worker listens: `forward_home_jobs` moves such jobs onto the platform's queue
right after the commit (and the outbox relay's sweep again, should that fail). A job is copied
before it is deleted, so a failure in between runs it twice, never not at all: our tasks are
idempotent."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql.kit.homes import Home

if TYPE_CHECKING:
    from lms_graphql.kit.db import Database

_DEFER = text(
    "SELECT procrastinate.procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, :priority, :lock, :queueing_lock, "
    "CAST(:args AS jsonb), :scheduled_at)::procrastinate.procrastinate_job_to_defer_v1])"
)


async def defer_job(
    session: AsyncSession,
    task: str,
    args: dict[str, Any],
    *,
    queue: str,
    lock: str | None = None,
    queueing_lock: str | None = None,
    scheduled_at: datetime | None = None,
    priority: int = 0,
) -> int:
    """Returns the job's id. ``lock``: jobs sharing it run one at a time; ``queueing_lock``: at
    most one such job waits at a time (procrastinate's meaning of both)."""
    parameters = {
        "queue": queue,
        "task": task,
        "priority": priority,
        "lock": lock,
        "queueing_lock": queueing_lock,
        "args": orjson.dumps(args).decode(),
        "scheduled_at": scheduled_at,
    }
    ids = (await session.execute(_DEFER, parameters)).scalar_one()
    session.info["jobs_deferred"] = True
    return int(ids[0])


_WAITING = text(
    "SELECT id, queue_name, task_name, priority, lock, queueing_lock, args, scheduled_at "
    "FROM procrastinate.procrastinate_jobs WHERE status = 'todo' ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED"
)
_FORGET = text("DELETE FROM procrastinate.procrastinate_jobs WHERE id = ANY(:ids)")
FORWARD_BATCH = 100


async def forward_home_jobs(db: Database, tenant_id: uuid.UUID, home_of_jobs: Home) -> int:
    """Move the jobs waiting in the queue of ``home_of_jobs`` (a database other than the
    platform's) onto the platform's; returns how many."""
    if home_of_jobs.on_platform_database:
        raise ValueError("the platform's own queue is not forwarded")
    moved = 0
    while True:
        async with db.tenant_transaction(tenant_id, home=home_of_jobs) as home:
            rows = (await home.execute(_WAITING, {"limit": FORWARD_BATCH})).all()
            if not rows:
                return moved
            async with db.platform_transaction() as platform:
                for row in rows:
                    try:
                        async with platform.begin_nested():
                            await defer_job(
                                platform,
                                row.task_name,
                                row.args,
                                queue=row.queue_name,
                                lock=row.lock,
                                queueing_lock=row.queueing_lock,
                                scheduled_at=row.scheduled_at,
                                priority=row.priority,
                            )
                    except IntegrityError:
                        pass  # its queueing lock: the same job waits on the platform already
            await home.execute(_FORGET, {"ids": [row.id for row in rows]})
        moved += len(rows)
        if len(rows) < FORWARD_BATCH:
            return moved
