"""Leaving a course and being removed from it: the seat is freed, the history stays."""

from __future__ import annotations

import httpx
import psycopg

from lms_graphql.kit.db import Database
from tests.support.builders import build_course
from tests.support.http import gql, login
from tests.support.people import PersonFactory, TenantFactory

ENROLL = "mutation($c: ID!) { enrollInCourse(courseId: $c) { id status } }"
DROP = "mutation($c: ID!) { dropEnrollment(courseId: $c) { id status droppedAt progressPercent } }"
REMOVE = "mutation($c: ID!, $u: ID!) { removeStudent(courseId: $c, userId: $u) { status droppedAt } }"
PROGRESS = "mutation($l: ID!, $p: Int!) { updateLessonProgress(lessonId: $l, progress: $p) { progressPct } }"


async def test_a_learner_leaves_and_comes_back_with_their_history(
    client: httpx.AsyncClient,
    db: Database,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    owner_conn: psycopg.Connection,
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    course = await build_course(db, tenant, teacher.id, modules=1, lessons=2, max_enrollment=1)
    first, second = await make_user(tenant), await make_user(tenant)
    first_token, second_token = await login(client, first), await login(client, second)
    enrolled = (await gql(client, ENROLL, {"c": str(course.id)}, token=first_token)).data["enrollInCourse"]
    await gql(client, PROGRESS, {"l": str(course.lesson_ids[0]), "p": 100}, token=first_token)
    assert (await gql(client, ENROLL, {"c": str(course.id)}, token=second_token)).codes == ["COURSE_FULL"]

    left = (await gql(client, DROP, {"c": str(course.id)}, token=first_token)).data["dropEnrollment"]
    assert (left["id"], left["status"], left["progressPercent"]) == (enrolled["id"], "DROPPED", 50.0)
    assert left["droppedAt"] is not None
    assert (await gql(client, DROP, {"c": str(course.id)}, token=first_token)).codes == ["NOT_FOUND"]
    refused = await gql(client, PROGRESS, {"l": str(course.lesson_ids[1]), "p": 100}, token=first_token)
    assert refused.codes == ["FORBIDDEN"]
    # The seat is free: the other learner takes it; the first is back once it is free again.
    assert (await gql(client, ENROLL, {"c": str(course.id)}, token=second_token)).data["enrollInCourse"]
    assert (await gql(client, ENROLL, {"c": str(course.id)}, token=first_token)).codes == ["COURSE_FULL"]
    await gql(client, DROP, {"c": str(course.id)}, token=second_token)
    back = (await gql(client, ENROLL, {"c": str(course.id)}, token=first_token)).data["enrollInCourse"]
    assert back == {"id": enrolled["id"], "status": "ACTIVE"}  # the same enrollment, its progress kept
    kept = owner_conn.execute(
        "SELECT progress_pct FROM lesson_progress WHERE user_id = %s AND lesson_id = %s",
        (first.id, course.lesson_ids[0]),
    ).fetchone()
    assert kept == (100,)
    events = owner_conn.execute(
        "SELECT count(*) FROM domain_events WHERE tenant_id = %s AND event_type = 'student.dropped'", (tenant.id,)
    ).fetchone()
    assert events == (2,)


async def test_the_instructor_removes_a_student_who_is_told(
    client: httpx.AsyncClient, db: Database, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    course = await build_course(db, tenant, teacher.id, modules=1, lessons=1)
    student = await make_user(tenant)
    student_token = await login(client, student)
    await gql(client, ENROLL, {"c": str(course.id)}, token=student_token)
    colleague = await login(client, await make_user(tenant, "instructor"))
    stranger = await login(client, await make_user(await make_tenant(), "admin"))
    variables = {"c": str(course.id), "u": str(student.id)}
    assert (await gql(client, REMOVE, variables, token=student_token)).codes == ["FORBIDDEN"]
    assert (await gql(client, REMOVE, variables, token=colleague)).codes == ["FORBIDDEN"]
    assert (await gql(client, REMOVE, variables, token=stranger)).codes == ["NOT_FOUND"]
    removed = await gql(client, REMOVE, variables, token=await login(client, teacher))
    assert removed.data["removeStudent"]["status"] == "DROPPED"
    told = await gql(client, "{ notifications { title } }", token=student_token)
    assert {"title": "You were removed from Course"} in told.data["notifications"]


async def test_a_completed_course_stays_on_the_record(
    client: httpx.AsyncClient, db: Database, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    course = await build_course(db, tenant, teacher.id, modules=1, lessons=1, assessments=0)
    token = await login(client, await make_user(tenant))
    await gql(client, ENROLL, {"c": str(course.id)}, token=token)
    await gql(client, PROGRESS, {"l": str(course.lesson_ids[0]), "p": 100}, token=token)
    assert (await gql(client, DROP, {"c": str(course.id)}, token=token)).codes == ["BAD_USER_INPUT"]
