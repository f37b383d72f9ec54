"""Enrollment caps, progress rules and the events they emit."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import psycopg

from lms_graphql.kit.db import Database
from tests.support.builders import build_course
from tests.support.http import gql, login
from tests.support.people import Person, PersonFactory, TenantFactory

ENROLL = "mutation($c: ID!) { enrollInCourse(courseId: $c) { id status progressPercent course { id } user { id } } }"
PROGRESS = """
mutation($l: ID!, $p: Int!) { updateLessonProgress(lessonId: $l, progress: $p) { status progressPct startedAt completedAt
  lesson { id } } }
"""
MINE = "{ myEnrollments { status progressPercent completedAt course { id } } }"


def events(owner_conn: psycopg.Connection, user: Person, event_type: str) -> list[dict[str, object]]:
    rows = owner_conn.execute(
        "SELECT payload FROM domain_events WHERE tenant_id = %s AND user_id = %s AND event_type = %s "
        "ORDER BY occurred_at",
        (user.tenant.id, user.id, event_type),
    ).fetchall()
    return [row[0] for row in rows]


async def test_enroll_once_in_published_courses_only(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    db: Database,
    owner_conn: psycopg.Connection,
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    course = await build_course(db, tenant, teacher.id, title="Open")
    draft = await build_course(db, tenant, teacher.id, status="draft")
    archived = await build_course(db, tenant, teacher.id, status="archived")
    student = await make_user(tenant)
    token = await login(client, student)
    enrolled = (await gql(client, ENROLL, {"c": str(course.id)}, token=token)).data["enrollInCourse"]
    assert (enrolled["status"], enrolled["progressPercent"], enrolled["user"]["id"]) == ("ACTIVE", 0.0, str(student.id))
    assert (await gql(client, ENROLL, {"c": str(course.id)}, token=token)).codes == ["CONFLICT"]
    assert (await gql(client, ENROLL, {"c": str(draft.id)}, token=token)).codes == ["NOT_FOUND"]
    assert (await gql(client, ENROLL, {"c": str(archived.id)}, token=token)).codes == ["NOT_FOUND"]
    own_draft = await gql(client, ENROLL, {"c": str(draft.id)}, token=await login(client, teacher))
    assert own_draft.codes == ["BAD_USER_INPUT"]  # visible to its instructor, but not open
    assert events(owner_conn, student, "student.enrolled") == [
        {"courseId": str(course.id), "courseName": "Open", "enrollmentId": enrolled["id"]}
    ]
    assert (await gql(client, MINE, token=token)).data["myEnrollments"][0]["course"]["id"] == str(course.id)


async def test_enrollment_cap_holds_under_concurrency(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    db: Database,
    owner_conn: psycopg.Connection,
) -> None:
    tenant = await make_tenant(max_users=50)
    course = await build_course(db, tenant, (await make_user(tenant, "instructor")).id, max_enrollment=3)
    tokens = [await login(client, await make_user(tenant)) for _ in range(10)]
    replies = await asyncio.gather(*[gql(client, ENROLL, {"c": str(course.id)}, token=t) for t in tokens])
    outcomes = sorted("ok" if "errors" not in r.body else r.codes[0] for r in replies)
    assert outcomes == ["COURSE_FULL"] * 7 + ["ok"] * 3
    taken = owner_conn.execute("SELECT count(*) FROM enrollments WHERE course_id = %s", (course.id,)).fetchone()
    assert taken == (3,)


async def test_progress_is_monotonic_and_the_percent_exact(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    db: Database,
    owner_conn: psycopg.Connection,
) -> None:
    tenant = await make_tenant()
    course = await build_course(db, tenant, (await make_user(tenant, "instructor")).id, modules=1, lessons=3)
    student = await make_user(tenant)
    token = await login(client, student)
    await gql(client, ENROLL, {"c": str(course.id)}, token=token)
    first, second, third = (str(lesson) for lesson in course.lesson_ids)

    reply = await gql(client, PROGRESS, {"l": first, "p": 40}, token=token)
    assert reply.data["updateLessonProgress"]["status"] == "IN_PROGRESS"
    reply = await gql(client, PROGRESS, {"l": first, "p": 10}, token=token)
    assert reply.data["updateLessonProgress"]["progressPct"] == 40  # never decreases
    reply = await gql(client, PROGRESS, {"l": first, "p": 100}, token=token)
    assert reply.data["updateLessonProgress"]["status"] == "COMPLETED"
    assert reply.data["updateLessonProgress"]["completedAt"] is not None
    await gql(client, PROGRESS, {"l": first, "p": 100}, token=token)  # again: no second completion
    mine = (await gql(client, MINE, token=token)).data["myEnrollments"][0]
    assert mine["progressPercent"] == 33.33
    assert mine["status"] == "ACTIVE"
    zero = await gql(client, PROGRESS, {"l": second, "p": 0}, token=token)
    assert zero.data["updateLessonProgress"]["status"] == "NOT_STARTED"
    for lesson in (second, third):
        await gql(client, PROGRESS, {"l": lesson, "p": 100}, token=token)
    mine = (await gql(client, MINE, token=token)).data["myEnrollments"][0]
    assert (mine["progressPercent"], mine["status"]) == (100.0, "COMPLETED")
    assert mine["completedAt"] is not None

    completed = events(owner_conn, student, "lesson.completed")
    assert [event["lessonId"] for event in completed] == [first, second, third]
    assert completed[0] == {
        "courseId": str(course.id),
        "moduleId": str(course.module_ids[0]),
        "lessonId": first,
        "progressPercent": 33.33,
    }
    progressed = events(owner_conn, student, "lesson.progressed")
    assert [(e["lessonId"], e["progressPct"]) for e in progressed] == [
        (first, 40), (first, 100), (second, 0), (second, 100), (third, 100)
    ]  # fmt: skip


async def test_progress_needs_an_enrollment_and_a_valid_value(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    course = await build_course(db, tenant, teacher.id)
    draft = await build_course(db, tenant, teacher.id, status="draft")
    token = await login(client, await make_user(tenant))
    lesson = str(course.lesson_ids[0])
    assert (await gql(client, PROGRESS, {"l": lesson, "p": 50}, token=token)).codes == ["FORBIDDEN"]
    assert (await gql(client, PROGRESS, {"l": str(draft.lesson_ids[0]), "p": 50}, token=token)).codes == ["NOT_FOUND"]
    await gql(client, ENROLL, {"c": str(course.id)}, token=token)
    for bad in (-1, 101, 1000):
        assert (await gql(client, PROGRESS, {"l": lesson, "p": bad}, token=token)).codes == ["BAD_USER_INPUT"]
    assert (await gql(client, PROGRESS, {"l": str(uuid.uuid4()), "p": 5}, token=token)).codes == ["NOT_FOUND"]


async def test_parallel_progress_writes_complete_once(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    db: Database,
    owner_conn: psycopg.Connection,
) -> None:
    tenant = await make_tenant()
    course = await build_course(db, tenant, (await make_user(tenant, "instructor")).id, modules=1, lessons=2)
    student = await make_user(tenant)
    token = await login(client, student)
    await gql(client, ENROLL, {"c": str(course.id)}, token=token)
    values = [10, 100, 55, 100, 70, 100, 30, 90, 100, 20]
    replies = await asyncio.gather(
        *[gql(client, PROGRESS, {"l": str(course.lesson_ids[0]), "p": v}, token=token) for v in values]
    )
    assert all("errors" not in reply.body for reply in replies)
    assert len(events(owner_conn, student, "lesson.completed")) == 1
    row = owner_conn.execute(
        "SELECT progress_pct, status FROM lesson_progress WHERE user_id = %s", (student.id,)
    ).fetchone()
    assert row == (100, "completed")
    percent = owner_conn.execute("SELECT progress_pct FROM enrollments WHERE user_id = %s", (student.id,)).fetchone()
    assert percent == (50,)


async def test_a_new_lesson_updates_enrolled_percents(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    course = await build_course(db, tenant, teacher.id, modules=1, lessons=1)
    token = await login(client, await make_user(tenant))
    await gql(client, ENROLL, {"c": str(course.id)}, token=token)
    await gql(client, PROGRESS, {"l": str(course.lesson_ids[0]), "p": 100}, token=token)
    assert (await gql(client, MINE, token=token)).data["myEnrollments"][0]["progressPercent"] == 100.0
    await gql(
        client, 'mutation($m: ID!) { createLesson(input: {moduleId: $m, title: "More", contentType: TEXT}) { id } }',
        {"m": str(course.module_ids[0])}, token=await login(client, teacher),
    )  # fmt: skip
    mine = (await gql(client, MINE, token=token)).data["myEnrollments"][0]
    assert (mine["progressPercent"], mine["status"]) == (50.0, "COMPLETED")  # completion is history
