"""Idempotency-Key on mutations: replay, conflict, races, a key left by a dead process."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import psycopg

from lms_graphql.kit.db import Database
from tests.support.builders import build_course
from tests.support.http import login
from tests.support.people import PersonFactory, TenantFactory

ENROLL = "mutation($c: ID!) { enrollInCourse(courseId: $c) { id } }"


async def test_idempotency_replay_conflict_and_race(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    db: Database,
    owner_conn: psycopg.Connection,
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    first, second = await build_course(db, tenant, teacher.id), await build_course(db, tenant, teacher.id)
    student = await make_user(tenant)
    token = await login(client, student)

    async def enroll(course: uuid.UUID, key: str) -> httpx.Response:
        return await client.post(
            "/graphql",
            json={"query": ENROLL, "variables": {"c": str(course)}},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
        )

    original = await enroll(first.id, "key-1")
    replay = await enroll(first.id, "key-1")
    assert replay.json() == original.json()
    assert replay.headers["idempotent-replayed"] == "true"
    conflict = await enroll(second.id, "key-1")
    assert (conflict.status_code, conflict.json()["errors"][0]["extensions"]["code"]) == (409, "CONFLICT")
    racing = await asyncio.gather(*[enroll(second.id, "key-2") for _ in range(8)])
    bodies = [r.json() for r in racing if r.status_code == 200]
    assert bodies
    assert all(body == bodies[0] for body in bodies)
    assert all(r.status_code in (200, 409) for r in racing)
    enrolled = owner_conn.execute("SELECT count(*) FROM enrollments WHERE user_id = %s", (student.id,)).fetchone()
    events = owner_conn.execute(
        "SELECT count(*) FROM domain_events WHERE user_id = %s AND event_type = 'student.enrolled'", (student.id,)
    ).fetchone()
    assert (enrolled, events) == ((2,), (2,))  # each executed once
    assert (await enroll(first.id, "\x01bad")).status_code == 400
    # A key left "running" by a process that died is given up after a while, then runs.
    owner_conn.execute(
        "INSERT INTO idempotency_keys (tenant_id, user_id, key, request_hash, state, created_at)"
        " VALUES (%s, %s, 'key-3', 'x', 'running', now() - interval '1 hour')",
        (tenant.id, student.id),
    )
    third = await build_course(db, tenant, teacher.id)
    revived = await enroll(third.id, "key-3")
    assert revived.status_code == 200
    assert "errors" not in revived.json()


async def test_a_replay_is_the_first_answer_byte_for_byte(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    course = await build_course(db, tenant, teacher.id)
    token = await login(client, await make_user(tenant))
    # Keys in an order jsonb would not keep (it sorts by length, then bytes).
    query = "mutation($c: ID!) { enrollInCourse(courseId: $c) { status id progressPercent course { title id } } }"
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "bytes-1"}
    body = {"query": query, "variables": {"c": str(course.id)}}
    first = await client.post("/graphql", json=body, headers=headers)
    replay = await client.post("/graphql", json=body, headers=headers)
    assert replay.headers["idempotent-replayed"] == "true", replay.content
    assert replay.content == first.content
