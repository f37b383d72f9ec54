"""The one-request student dashboard: its content, and a statement count independent of size."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import psycopg

from lms_graphql.kit.db import Database
from tests.support.builders import build_course, count_statements, enroll
from tests.support.http import gql, login
from tests.support.people import PersonFactory, TenantFactory

DASHBOARD = """
{
  myDashboard {
    overallProgress
    certificatesEarned
    enrolledCourses {
      progressPercent
      lastAccessedAt
      course {
        id title slug status enrollmentCount completionRate
        instructor { id fullName }
        modules { id title position lessons { id title contentType contentRef durationMin position myProgress { status progressPct } } }
      }
      nextLesson { id title module { id title } }
    }
    upcomingAssessments { id title dueAt maxScore questions course { id title } mySubmissions { id score } }
    recentActivity { id eventType occurredAt courseId payload }
    certificates { id issuedAt verificationCode course { id title } }
  }
}
"""
PROGRESS = "mutation($l: ID!, $p: Int!) { updateLessonProgress(lessonId: $l, progress: $p) { progressPct } }"
ENROLL = "mutation($c: ID!) { enrollInCourse(courseId: $c) { id } }"


async def student_with_courses(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, db: Database, courses: int
) -> tuple[str, list[uuid.UUID]]:
    tenant = await make_tenant()
    teachers = [await make_user(tenant, "instructor") for _ in range(3)]
    token = await login(client, await make_user(tenant))
    ids = []
    for index in range(courses):
        built = await build_course(db, tenant, teachers[index % 3].id, modules=3, lessons=4, assessments=1)
        await gql(client, ENROLL, {"c": str(built.id)}, token=token)
        await gql(client, PROGRESS, {"l": str(built.lesson_ids[0]), "p": 100}, token=token)
        ids.append(built.id)
    return token, ids


async def test_dashboard_statement_count_does_not_grow_with_courses(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, db: Database, app: Any
) -> None:
    counts = {}
    for size in (1, 20):
        token, _ = await student_with_courses(client, make_tenant, make_user, db, size)
        await app.state.services.relay.idle()  # the relay's own statements are not the request's
        with count_statements(db.engine) as statements:
            reply = await gql(client, DASHBOARD, token=token)
        assert len(reply.data["myDashboard"]["enrolledCourses"]) == size
        counts[size] = len(statements)
    assert counts[1] == counts[20], counts
    # tenant binding, viewer, and the compiled dashboard, whatever the size (answered the
    # ordinary way, it is eight: tests/test_compiled_reads.py).
    assert counts[1] == 3, counts


async def test_dashboard_content(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    db: Database,
    owner_conn: psycopg.Connection,
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    student = await make_user(tenant)
    token = await login(client, student)
    first = await build_course(db, tenant, teacher.id, title="First", modules=2, lessons=2, assessments=2)
    second = await build_course(db, tenant, teacher.id, title="Second", modules=1, lessons=2, assessments=1)
    await build_course(db, tenant, teacher.id, title="Not enrolled", assessments=1)
    for course in (first, second):
        await gql(client, ENROLL, {"c": str(course.id)}, token=token)
    # First course: lessons 0 and 2 done -> next is lesson 1 (module order, then lesson order).
    for lesson in (first.lesson_ids[0], first.lesson_ids[2]):
        await gql(client, PROGRESS, {"l": str(lesson), "p": 100}, token=token)
    await gql(client, PROGRESS, {"l": str(second.lesson_ids[0]), "p": 30}, token=token)
    # A passed quiz is no longer upcoming.
    owner_conn.execute(
        "INSERT INTO submissions (tenant_id, assessment_id, user_id, attempt_number, answers, score, passed, status,"
        " submitted_at, graded_at) VALUES (%s, %s, %s, 1, '{}', 10, true, 'graded', now(), now())",
        (tenant.id, first.assessment_ids[0], student.id),
    )

    dashboard = (await gql(client, DASHBOARD, token=token)).data["myDashboard"]
    by_title = {entry["course"]["title"]: entry for entry in dashboard["enrolledCourses"]}
    assert set(by_title) == {"First", "Second"}
    assert by_title["First"]["progressPercent"] == 50.0
    assert by_title["First"]["nextLesson"]["id"] == str(first.lesson_ids[1])
    assert by_title["Second"]["nextLesson"]["id"] == str(second.lesson_ids[0])  # 30 % is not completed
    assert by_title["Second"]["progressPercent"] == 0.0
    assert dashboard["overallProgress"] == 25.0
    assert by_title["First"]["lastAccessedAt"] is not None
    lessons = by_title["First"]["course"]["modules"][0]["lessons"]
    assert lessons[0]["myProgress"] == {"status": "COMPLETED", "progressPct": 100}
    assert lessons[1]["myProgress"] is None
    assert lessons[0]["contentRef"] == "https://cdn.example/0/0"
    upcoming = [a["id"] for a in dashboard["upcomingAssessments"]]
    assert upcoming == [str(second.assessment_ids[0]), str(first.assessment_ids[1])]  # by due date
    assert all("answer" not in q for a in dashboard["upcomingAssessments"] for q in a["questions"])
    kinds = [event["eventType"] for event in dashboard["recentActivity"]]
    assert kinds.count("student.enrolled") == 2
    assert kinds.count("lesson.completed") == 2
    assert dashboard["certificatesEarned"] == 0
    assert dashboard["certificates"] == []


async def test_dashboard_of_a_new_student_is_empty(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    token = await login(client, await make_user(await make_tenant()))
    dashboard = (await gql(client, DASHBOARD, token=token)).data["myDashboard"]
    assert dashboard == {
        "overallProgress": 0.0,
        "certificatesEarned": 0,
        "enrolledCourses": [],
        "upcomingAssessments": [],
        "recentActivity": [],
        "certificates": [],
    }


COURSE_TREE = """
fragment Tree on Course {
  id title slug status enrollmentCount completionRate instructor { id fullName }
  modules { id title position lessons { id title contentType contentRef durationMin position myProgress { status progressPct } } }
}
"""


async def test_dashboard_subtrees_equal_the_same_objects_loaded_one_by_one(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    """The dashboard's joined statements must give exactly what the per-type loaders give."""
    token, course_ids = await student_with_courses(client, make_tenant, make_user, db, 3)
    dashboard = (
        await gql(
            client,
            COURSE_TREE + "{ myDashboard { enrolledCourses { ... on EnrolledCourseProgress { course { ...Tree } }"
            " nextLesson { id title contentRef myProgress { status } module { id title } } } } }",
            token=token,
        )
    ).data["myDashboard"]
    for entry in dashboard["enrolledCourses"]:
        alone = (
            await gql(
                client,
                COURSE_TREE + "query($c: ID!) { course(id: $c) { ...Tree } }",
                {"c": entry["course"]["id"]},
                token=token,
            )
        ).data["course"]
        assert entry["course"] == alone
        assert entry["course"]["modules"][0]["lessons"][0]["myProgress"] == {"status": "COMPLETED", "progressPct": 100}
        second = entry["course"]["modules"][0]["lessons"][1]
        assert entry["nextLesson"] == {
            "id": second["id"],
            "title": second["title"],
            "contentRef": second["contentRef"],
            "myProgress": None,
            "module": {"id": entry["course"]["modules"][0]["id"], "title": entry["course"]["modules"][0]["title"]},
        }
    assert {entry["course"]["id"] for entry in dashboard["enrolledCourses"]} == {str(c) for c in course_ids}


async def test_dashboard_fetches_only_what_is_selected(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, db: Database, app: Any
) -> None:
    token, _ = await student_with_courses(client, make_tenant, make_user, db, 2)
    await app.state.services.relay.idle()
    with count_statements(db.engine) as statements:
        reply = await gql(
            client, "{ myDashboard { overallProgress enrolledCourses { course { title } } } }", token=token
        )
    assert reply.data["myDashboard"]["overallProgress"] == 8.33  # one of twelve lessons in each course
    # binding, viewer, and one statement for the enrollments with their courses
    assert len(statements) == 3, statements
    assert not any("modules" in statement or "lateral" in statement.lower() for statement in statements)


async def test_overall_progress_rounds_the_exact_mean_half_up(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    db: Database,
    owner_conn: psycopg.Connection,
) -> None:
    """1.00 and 1.01 average 1.005 exactly: 1.01 (the sum of the floats, 2.01, halves to 1.00499...)."""
    tenant = await make_tenant()
    teacher, student = await make_user(tenant, "instructor"), await make_user(tenant)
    for percent in ("1.00", "1.01"):
        course = await build_course(db, tenant, teacher.id)
        await enroll(db, tenant, student.id, course.id)
        owner_conn.execute(
            "UPDATE enrollments SET progress_pct = %s WHERE user_id = %s AND course_id = %s",
            (percent, student.id, course.id),
        )
    reply = await gql(client, "{ myDashboard { overallProgress } }", token=await login(client, student))
    assert reply.data["myDashboard"]["overallProgress"] == 1.01
