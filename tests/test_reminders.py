"""Deadline reminders on the job queue: learners who have not submitted hear 24 hours before an
assessment is due, once per learner, assessment and due date, however many workers look; the
worker command runs the queue's jobs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from lms_graphql.jobs.queue import REMINDER_TASK, remind_all_tenants
from lms_graphql.kit.db import Database
from lms_graphql.kit.deferral import defer_job
from tests.support.builders import build_course, enroll
from tests.support.people import PersonFactory, TenantFactory
from tests.support.servers import CONSOLE_SCRIPT


def reminders_of(owner_conn: psycopg.Connection, user_id: object) -> list[tuple[str, str]]:
    rows = owner_conn.execute(
        "SELECT event_type, title FROM notifications WHERE user_id = %s AND event_type = 'assessment.due_soon'"
        " ORDER BY created_at",
        (user_id,),
    ).fetchall()
    return [(row[0], row[1]) for row in rows]


async def test_learners_due_a_reminder_get_one_however_many_workers_look(
    db: Database, make_tenant: TenantFactory, make_user: PersonFactory, owner_conn: psycopg.Connection
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    course = await build_course(db, tenant, teacher.id, modules=1, lessons=1, assessments=2)
    soon, later = course.assessment_ids
    now = datetime.now(UTC)
    owner_conn.execute(
        "UPDATE assessments SET title = 'Quiz 1', due_at = %s WHERE id = %s", (now + timedelta(hours=10), soon)
    )
    owner_conn.execute("UPDATE assessments SET due_at = %s WHERE id = %s", (now + timedelta(hours=48), later))
    waiting, done, dropped, gone = [await make_user(tenant) for _ in range(4)]
    for learner in (waiting, done, dropped, gone):
        await enroll(db, tenant, learner.id, course.id)
    owner_conn.execute("UPDATE users SET is_active = false WHERE id = %s", (gone.id,))
    owner_conn.execute(
        "UPDATE enrollments SET status = 'dropped', dropped_at = now() WHERE user_id = %s", (dropped.id,)
    )
    owner_conn.execute(
        "INSERT INTO submissions (tenant_id, assessment_id, user_id, answers, status, submitted_at)"
        " VALUES (%s, %s, %s, '{}', 'submitted', now())",
        (tenant.id, soon, done.id),
    )

    counts = await asyncio.gather(*(remind_all_tenants(db, now) for _ in range(4)))
    assert sum(counts) >= 1
    assert reminders_of(owner_conn, waiting.id) == [
        ("assessment.due_soon", f"Quiz 1 is due {now + timedelta(hours=10):%Y-%m-%d %H:%M} UTC")
    ]
    assert reminders_of(owner_conn, done.id) == []
    assert reminders_of(owner_conn, dropped.id) == []
    assert reminders_of(owner_conn, gone.id) == []  # a deactivated account
    await remind_all_tenants(db, now + timedelta(minutes=5))
    assert len(reminders_of(owner_conn, waiting.id)) == 1  # once

    owner_conn.execute("UPDATE assessments SET due_at = %s WHERE id = %s", (now + timedelta(hours=5), soon))
    await remind_all_tenants(db, now + timedelta(minutes=10))
    assert len(reminders_of(owner_conn, waiting.id)) == 2  # the due date moved: told again


async def test_the_worker_command_runs_the_queued_jobs(
    db: Database, env_for_cli: dict[str, str], owner_conn: psycopg.Connection
) -> None:
    async with db.platform_transaction() as session:
        args = {"timestamp": int(datetime.now(UTC).timestamp())}
        job_id = await defer_job(session, REMINDER_TASK, args, queue="reminders")
    worker = await asyncio.create_subprocess_exec(
        CONSOLE_SCRIPT, "worker", "--once", "--log-format", "human", env=env_for_cli, stderr=asyncio.subprocess.PIPE
    )
    _, errors = await asyncio.wait_for(worker.communicate(), 120)
    assert worker.returncode == 0, errors.decode()
    status = owner_conn.execute(
        "SELECT status FROM procrastinate.procrastinate_jobs WHERE id = %s", (job_id,)
    ).fetchone()
    assert status == ("succeeded",)


async def test_the_worker_inside_serve_outlives_a_database_outage(
    db: Database, database_urls: Any, env_for_cli: dict[str, str], owner_conn: psycopg.Connection
) -> None:
    from lms_graphql.app import create_app
    from lms_graphql.config import Settings
    from tests.support.database import DatabaseProxy
    from tests.support.http import TEST_JWT_KEYS

    settings = Settings.from_env({**env_for_cli, "LMS_JWT_KEYS": TEST_JWT_KEYS})  # the worker runs in-process
    async with DatabaseProxy(database_urls.app) as proxy:
        through_proxy = Database(proxy.url, pool_size=2)
        application = create_app(settings, db=through_proxy)
        try:
            async with application.router.lifespan_context(application):
                await asyncio.sleep(0.5)  # the worker is listening
                await proxy.cut()
                await asyncio.sleep(1.5)  # it noticed, and stopped
                await proxy.restore()
                async with db.platform_transaction() as session:
                    args = {"timestamp": int(datetime.now(UTC).timestamp())}
                    job_id = await defer_job(session, REMINDER_TASK, args, queue="reminders")
                for _ in range(200):
                    status = owner_conn.execute(
                        "SELECT status FROM procrastinate.procrastinate_jobs WHERE id = %s", (job_id,)
                    ).fetchone()
                    if status == ("succeeded",):
                        break
                    await asyncio.sleep(0.1)
                assert status == ("succeeded",)
        finally:
            await through_proxy.dispose()


async def test_jobs_of_a_worker_that_died_run_again(db: Database, app: Any, owner_conn: psycopg.Connection) -> None:
    from tests.support.content import keep_house_at

    (worker,) = (
        owner_conn.execute(
            "INSERT INTO procrastinate.procrastinate_workers (last_heartbeat) VALUES (now() - interval '1 hour') RETURNING id"
        ).fetchone()
        or ()
    )
    (job,) = (
        owner_conn.execute(
            "INSERT INTO procrastinate.procrastinate_jobs (queue_name, task_name, args, status, worker_id)"
            " VALUES ('reminders', %s, %s, 'doing', %s) RETURNING id",
            (REMINDER_TASK, psycopg.types.json.Jsonb({"timestamp": 0}), worker),
        ).fetchone()
        or ()
    )
    await keep_house_at(db, app.state.services.storage, datetime.now(UTC))
    status = owner_conn.execute("SELECT status FROM procrastinate.procrastinate_jobs WHERE id = %s", (job,)).fetchone()
    assert status == ("todo",)
