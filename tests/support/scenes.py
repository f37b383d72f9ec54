"""A course with its instructor and an enrolled student, for live tests."""

from __future__ import annotations

import uuid

from lms_graphql.kit.db import Database
from tests.support.builders import build_course, enroll
from tests.support.people import Person, PersonFactory, TenantFactory
from tests.support.servers import LiveServer

PROGRESS_FEED = """
subscription($c: ID!, $after: ID) { courseProgressUpdates(courseId: $c, afterEventId: $after) {
  courseId userId lessonId status progressPct coursePercent eventId } }
"""


NOTIFICATION_FEED = (
    "subscription($after: ID) { studentNotifications(afterEventId: $after) { eventType title eventId } }"
)


PROGRESS = "mutation($l: ID!, $p: Int!) { updateLessonProgress(lessonId: $l, progress: $p) { progressPct } }"


class Scene:
    def __init__(self, teacher: Person, student: Person, course_id: uuid.UUID, lessons: list[uuid.UUID]) -> None:
        self.teacher, self.student, self.course_id, self.lessons = teacher, student, course_id, lessons
        self.slug = teacher.tenant.slug


async def scene(make_tenant: TenantFactory, make_user: PersonFactory, db: Database) -> Scene:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    student = await make_user(tenant)
    course = await build_course(db, tenant, teacher.id, modules=1, lessons=4)
    await enroll(db, tenant, student.id, course.id)
    return Scene(teacher, student, course.id, course.lesson_ids)


async def progress(server: LiveServer, token: str, lesson: uuid.UUID, percent: int) -> None:
    body = await server.gql(PROGRESS, {"l": str(lesson), "p": percent}, Authorization=f"Bearer {token}")
    assert "errors" not in body, body
