"""Two tenants with identical data: every operation taking an id answers NOT_FOUND for the
other tenant's ids (and malformed ones), exactly like for a random id, and changes nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
import psycopg
import pytest

from lms_graphql.kit.db import Database
from tests.builders import BuiltCourse, build_course, enroll
from tests.conftest import Person, PersonFactory, TenantFactory, gql, login


@dataclass
class Side:
    admin: Person
    student: Person
    course: BuiltCourse
    notification_id: uuid.UUID
    submission_id: uuid.UUID


async def side(
    db: Database, make_tenant: TenantFactory, make_user: PersonFactory, owner_conn: psycopg.Connection
) -> Side:
    tenant = await make_tenant()
    admin = await make_user(tenant, "admin", email="admin@uni.example")
    student = await make_user(tenant, "student", email="student@uni.example")
    course = await build_course(db, tenant, admin.id, title="Same title", assessments=1)
    await enroll(db, tenant, student.id, course.id)
    notification = uuid.uuid4()
    owner_conn.execute(
        "INSERT INTO notifications (tenant_id, id, user_id, event_type, title) VALUES (%s, %s, %s, 'x', 'Hello')",
        (tenant.id, notification, student.id),
    )
    submission = uuid.uuid4()
    owner_conn.execute(
        "INSERT INTO submissions (tenant_id, id, assessment_id, user_id, answers, status, submitted_at)"
        " VALUES (%s, %s, %s, %s, '{}', 'submitted', now())",
        (tenant.id, submission, course.assessment_ids[0], student.id),
    )
    return Side(admin, student, course, notification, submission)


OPERATIONS: dict[str, tuple[str, str]] = {
    # name: (document, which id of the other side it receives)
    "course": ("query($id: ID!) { course(id: $id) { id title } }", "course"),
    "courseStudents": ("query($id: ID!) { courseStudents(courseId: $id) { id } }", "course"),
    "courseAnalytics": ("query($id: ID!) { courseAnalytics(courseId: $id) { enrollmentCount } }", "course"),
    "updateCourse": ('mutation($id: ID!) { updateCourse(id: $id, input: {title: "pwned"}) { id } }', "course"),
    "publishCourse": ("mutation($id: ID!) { publishCourse(id: $id) { id } }", "course"),
    "archiveCourse": ("mutation($id: ID!) { archiveCourse(id: $id) { id } }", "course"),
    "createModule": ('mutation($id: ID!) { createModule(input: {courseId: $id, title: "x"}) { id } }', "course"),
    "createLesson": (
        'mutation($id: ID!) { createLesson(input: {moduleId: $id, title: "x", contentType: TEXT}) { id } }',
        "module",
    ),
    "enrollInCourse": ("mutation($id: ID!) { enrollInCourse(courseId: $id) { id } }", "course"),
    "updateLessonProgress": (
        "mutation($id: ID!) { updateLessonProgress(lessonId: $id, progress: 100) { id } }",
        "lesson",
    ),
    "submission": ("query($id: ID!) { submission(id: $id) { id answers } }", "submission"),
    "markNotificationRead": ("mutation($id: ID!) { markNotificationRead(id: $id) { id } }", "notification"),
    "updateUser": ('mutation($id: ID!) { updateUser(id: $id, input: {fullName: "pwned"}) { id } }', "user"),
    "createAssessment": (
        'mutation($id: ID!) { createAssessment(input: {courseId: $id, title: "x", assessmentType: QUIZ}) { id } }',
        "course",
    ),
    "startAssessment": ("mutation($id: ID!) { startAssessment(assessmentId: $id) { id } }", "assessment"),
    "submitAssessment": (
        "mutation($id: ID!) { submitAssessment(assessmentId: $id, answers: {}) { id } }",
        "assessment",
    ),
    "gradeSubmission": ("mutation($id: ID!) { gradeSubmission(submissionId: $id, score: 1) { id } }", "submission"),
}


def ids_of(target: Side) -> dict[str, str]:
    return {
        "course": str(target.course.id),
        "module": str(target.course.module_ids[0]),
        "lesson": str(target.course.lesson_ids[0]),
        "submission": str(target.submission_id),
        "notification": str(target.notification_id),
        "user": str(target.student.id),
        "assessment": str(target.course.assessment_ids[0]),
    }


def snapshot(owner_conn: psycopg.Connection, tenant_id: uuid.UUID) -> list[object]:
    tables = (
        "users",
        "courses",
        "modules",
        "lessons",
        "enrollments",
        "lesson_progress",
        "notifications",
        "submissions",
    )
    return [
        owner_conn.execute(
            f"SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM {table} t WHERE tenant_id = %s", (tenant_id,)
        ).fetchone()
        for table in tables
    ]


@pytest.mark.parametrize("role", ["admin", "student"])
async def test_other_tenants_ids_are_not_found(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    db: Database,
    owner_conn: psycopg.Connection,
    role: str,
) -> None:
    a = await side(db, make_tenant, make_user, owner_conn)
    b = await side(db, make_tenant, make_user, owner_conn)
    token = await login(client, b.admin if role == "admin" else b.student)
    before = snapshot(owner_conn, a.admin.tenant.id)
    foreign = ids_of(a)
    for name, (document, kind) in OPERATIONS.items():
        for value in (foreign[kind], str(uuid.uuid4()), "not-an-id", ""):
            reply = await gql(client, document, {"id": value}, token=token)
            assert reply.status == 200, (name, value)
            allowed = {"NOT_FOUND"} if role == "admin" else {"NOT_FOUND", "FORBIDDEN"}
            assert reply.codes, (name, value, reply.body)
            assert set(reply.codes) <= allowed, (name, value, reply.body)
            data = reply.body.get("data")
            assert data is None or all(v is None for v in data.values()), (name, reply.body)
            assert "Same title" not in str(reply.body)
    assert snapshot(owner_conn, a.admin.tenant.id) == before
