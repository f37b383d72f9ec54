"""Deferring a job inside the caller's transaction (migration 0015): the job exists if and only
if the change that needs it commits; the worker hears of it at that commit (NOTIFY)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

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
    return int(ids[0])
