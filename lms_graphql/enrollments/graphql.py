"""Queries and mutations of enrollment and progress."""

from __future__ import annotations

import strawberry

from lms_graphql.auth.permissions import Permission
from lms_graphql.context import Info
from lms_graphql.courses.graphql import visible_course
from lms_graphql.enrollments import service
from lms_graphql.enrollments.types import Enrollment, LessonProgress
from lms_graphql.kit.graphql import require_id


@strawberry.type
class EnrollmentQueries:
    @strawberry.field(description="The signed-in user's enrollments, newest first.")
    async def my_enrollments(self, info: Info) -> list[Enrollment]:
        ctx = info.context
        viewer = ctx.require_viewer()
        async with ctx.read() as session:
            rows = await service.of_viewer(session, ctx.tenant.id, viewer)
        return [Enrollment.from_row(row) for row in rows]

    @strawberry.field(description="The course's students: for its instructor and admins.")
    async def course_students(self, info: Info, course_id: strawberry.ID) -> list[Enrollment]:
        ctx = info.context
        course = await visible_course(ctx, course_id)
        viewer = ctx.require_viewer()
        async with ctx.read() as session:
            rows = await service.students_of(session, ctx.tenant.id, viewer, course.key, course.instructor_id)
        return [Enrollment.from_row(row) for row in rows]


@strawberry.type
class EnrollmentMutations:
    @strawberry.mutation(description="Enroll the signed-in user in a published course; emits student.enrolled.")
    async def enroll_in_course(self, info: Info, course_id: strawberry.ID) -> Enrollment:
        ctx = info.context
        viewer = ctx.require(Permission.COURSE_ENROLL)
        key = require_id(course_id, "course")
        async with ctx.write() as session:
            enrollment = await service.enroll(session, ctx.tenant, viewer, key)
        return Enrollment.from_row(enrollment)

    @strawberry.mutation(
        description="Record progress (0-100) on a lesson of an enrolled course. Progress never decreases; "
        "emits lesson.progressed and, once, lesson.completed."
    )
    async def update_lesson_progress(self, info: Info, lesson_id: strawberry.ID, progress: int) -> LessonProgress:
        ctx = info.context
        viewer = ctx.require(Permission.PROGRESS_TRACK_OWN)
        key = require_id(lesson_id, "lesson")
        async with ctx.write() as session:
            row = await service.update_progress(session, ctx.tenant, viewer, key, progress)
        return LessonProgress.from_row(row)
