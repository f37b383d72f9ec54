"""Instructor and admin views, and what learners may not see."""

from __future__ import annotations

import uuid

import httpx
import psycopg

from lms_graphql.kit.db import Database
from tests.support.builders import build_course
from tests.support.http import gql, login
from tests.support.people import PersonFactory, TenantFactory

ENROLL = "mutation($c: ID!) { enrollInCourse(courseId: $c) { id } }"
PROGRESS = "mutation($l: ID!, $p: Int!) { updateLessonProgress(lessonId: $l, progress: $p) { progressPct } }"
ANALYTICS = """
query($c: ID!) { courseAnalytics(courseId: $c) { courseId enrollmentCount completedCount completionRate averageProgress
  averageScore lessonCompletion { lesson { id } completedCount completionRate } } }
"""
STUDENTS = "query($c: ID!) { courseStudents(courseId: $c) { user { id } progressPercent status } }"


async def test_course_analytics_and_students(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    db: Database,
    owner_conn: psycopg.Connection,
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    course = await build_course(db, tenant, teacher.id, modules=1, lessons=2, assessments=1)
    learners = [await make_user(tenant) for _ in range(3)]
    tokens = [await login(client, person) for person in learners]
    for token in tokens:
        await gql(client, ENROLL, {"c": str(course.id)}, token=token)
    for lesson in course.lesson_ids:  # the first learner completes the course
        await gql(client, PROGRESS, {"l": str(lesson), "p": 100}, token=tokens[0])
    await gql(client, PROGRESS, {"l": str(course.lesson_ids[0]), "p": 100}, token=tokens[1])
    for person, score in ((learners[0], 10), (learners[0], 4), (learners[1], 5)):
        owner_conn.execute(
            "INSERT INTO submissions (tenant_id, assessment_id, user_id, attempt_number, answers, score, passed, status,"
            " submitted_at, graded_at) VALUES (%s, %s, %s, (SELECT count(*) + 1 FROM submissions WHERE user_id = %s),"
            " '{}', %s, %s, 'graded', now(), now())",
            (tenant.id, course.assessment_ids[0], person.id, person.id, score, score >= 6),
        )
    teacher_token = await login(client, teacher)
    analytics = (await gql(client, ANALYTICS, {"c": str(course.id)}, token=teacher_token)).data["courseAnalytics"]
    assert analytics["enrollmentCount"] == 3
    assert analytics["completedCount"] == 1
    assert analytics["completionRate"] == 0.3333
    assert analytics["averageProgress"] == 50.0  # (100 + 50 + 0) / 3
    assert analytics["averageScore"] == 75.0  # best of learner 0 is 100 %, learner 1 has 50 %
    assert [(s["lesson"]["id"], s["completedCount"]) for s in analytics["lessonCompletion"]] == [
        (str(course.lesson_ids[0]), 2),
        (str(course.lesson_ids[1]), 1),
    ]
    students = (await gql(client, STUDENTS, {"c": str(course.id)}, token=teacher_token)).data["courseStudents"]
    assert {s["user"]["id"] for s in students} == {str(p.id) for p in learners}

    other_teacher = await login(client, await make_user(tenant, "instructor"))
    for document in (ANALYTICS, STUDENTS):
        assert (await gql(client, document, {"c": str(course.id)}, token=other_teacher)).codes == ["FORBIDDEN"]
        assert (await gql(client, document, {"c": str(course.id)}, token=tokens[0])).codes == ["FORBIDDEN"]
    admin = await login(client, await make_user(tenant, "admin"))
    assert (await gql(client, ANALYTICS, {"c": str(course.id)}, token=admin)).data["courseAnalytics"][
        "enrollmentCount"
    ] == 3


async def test_tenant_overview_is_for_admins(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    await build_course(db, tenant, teacher.id)
    await build_course(db, tenant, teacher.id, status="draft")
    student = await make_user(tenant)
    admin = await login(client, await make_user(tenant, "admin"))
    query = "{ tenantOverview { userCount studentCount instructorCount courseCount publishedCourseCount enrollmentCount completionRate } }"
    assert (await gql(client, query, token=admin)).data["tenantOverview"] == {
        "userCount": 3,
        "studentCount": 1,
        "instructorCount": 1,
        "courseCount": 2,
        "publishedCourseCount": 1,
        "enrollmentCount": 0,
        "completionRate": 0.0,
    }
    assert (await gql(client, query, token=await login(client, student))).codes == ["FORBIDDEN"]
    assert (await gql(client, query, token=await login(client, teacher))).codes == ["FORBIDDEN"]


async def test_learners_see_no_answer_keys_and_no_content_before_enrolling(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    course = await build_course(db, tenant, teacher.id, assessments=1)
    query = """query($c: ID!) { course(id: $c) { assessments { questions } modules { lessons { contentRef } } } }"""
    student = await login(client, await make_user(tenant))
    before = (await gql(client, query, {"c": str(course.id)}, token=student)).data["course"]
    assert before["assessments"][0]["questions"] == [
        {"id": "q1", "type": "true_false", "prompt": "RLS is forced?", "points": 10}
    ]
    assert {lesson["contentRef"] for m in before["modules"] for lesson in m["lessons"]} == {None}
    await gql(client, ENROLL, {"c": str(course.id)}, token=student)
    after = (await gql(client, query, {"c": str(course.id)}, token=student)).data["course"]
    assert after["assessments"][0]["questions"][0].get("answer") is None
    assert None not in {lesson["contentRef"] for m in after["modules"] for lesson in m["lessons"]}
    authored = (await gql(client, query, {"c": str(course.id)}, token=await login(client, teacher))).data["course"]
    assert authored["assessments"][0]["questions"][0]["answer"] is True


async def test_notifications_and_submissions_are_private(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    db: Database,
    owner_conn: psycopg.Connection,
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    course = await build_course(db, tenant, teacher.id, assessments=1)
    alice, bob = await make_user(tenant), await make_user(tenant)
    note = uuid.uuid4()
    owner_conn.execute(
        "INSERT INTO notifications (tenant_id, id, user_id, event_type, title) VALUES (%s, %s, %s, 'course.published', 'New')",
        (tenant.id, note, alice.id),
    )
    submission = uuid.uuid4()
    owner_conn.execute(
        "INSERT INTO submissions (tenant_id, id, assessment_id, user_id, answers, status, submitted_at)"
        " VALUES (%s, %s, %s, %s, '{\"q1\": true}', 'submitted', now())",
        (tenant.id, submission, course.assessment_ids[0], alice.id),
    )
    alice_token, bob_token = await login(client, alice), await login(client, bob)
    listing = "query($u: Boolean) { notifications(unreadOnly: $u) { id readAt } }"
    assert [n["id"] for n in (await gql(client, listing, {"u": True}, token=alice_token)).data["notifications"]] == [
        str(note)
    ]
    assert (await gql(client, listing, {}, token=bob_token)).data["notifications"] == []
    mark = "mutation($id: ID!) { markNotificationRead(id: $id) { readAt } }"
    assert (await gql(client, mark, {"id": str(note)}, token=bob_token)).codes == ["NOT_FOUND"]
    first = (await gql(client, mark, {"id": str(note)}, token=alice_token)).data["markNotificationRead"]["readAt"]
    assert (await gql(client, mark, {"id": str(note)}, token=alice_token)).data["markNotificationRead"][
        "readAt"
    ] == first
    assert (await gql(client, listing, {"u": True}, token=alice_token)).data["notifications"] == []

    read = "query($id: ID!) { submission(id: $id) { id answers user { id } assessment { id } } }"
    assert (await gql(client, read, {"id": str(submission)}, token=alice_token)).data["submission"]["answers"] == {
        "q1": True
    }
    assert (await gql(client, read, {"id": str(submission)}, token=bob_token)).codes == ["NOT_FOUND"]
    seen = await gql(client, read, {"id": str(submission)}, token=await login(client, teacher))
    assert seen.data["submission"]["user"]["id"] == str(alice.id)
