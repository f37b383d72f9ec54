"""Queries and mutations of enrollment and progress."""

from __future__ import annotations

from typing import Annotated

import strawberry

from lms_graphql.auth.permissions import Permission
from lms_graphql.context import Info
from lms_graphql.courses.graphql import visible_course
from lms_graphql.enrollments import service
from lms_graphql.enrollments.types import Enrollment, LessonProgress
from lms_graphql.kit.connections import Connection, connection
from lms_graphql.kit.graphql import require_id
from lms_graphql.kit.pagination import decode_cursor, page_size


@strawberry.type
class EnrollmentQueries:
    @strawberry.field(
        description="The signed-in user's enrollments (any status), newest first. Errors: UNAUTHENTICATED without a "
        "token."
    )
    async def my_enrollments(self, info: Info) -> list[Enrollment]:
        ctx = info.context
        viewer = ctx.require_viewer()
        async with ctx.read() as session:
            rows = await service.of_viewer(session, ctx.tenant.id, viewer)
        return [Enrollment.from_row(row) for row in rows]

    @strawberry.field(
        description="The course's enrollments (any status), in the order students enrolled: for its instructor and "
        "admins. Errors: UNAUTHENTICATED without a token; NOT_FOUND when the course is unknown or hidden from you; "
        "FORBIDDEN for anyone else."
    )
    async def course_students(
        self, info: Info, course_id: Annotated[strawberry.ID, strawberry.argument(description="The course's id.")]
    ) -> list[Enrollment]:
        ctx = info.context
        course = await visible_course(ctx, course_id)
        viewer = ctx.require_viewer()
        async with ctx.read() as session:
            rows = await service.students_of(session, ctx.tenant.id, viewer, course.key, course.instructor_id)
        return [Enrollment.from_row(row) for row in rows]

    @strawberry.field(
        description="The signed-in user's enrollments (any status), newest first, a page at a time (myEnrollments "
        "lists them all). Errors: UNAUTHENTICATED without a token; BAD_USER_INPUT for `first` outside 0-100 or an "
        "invalid cursor."
    )
    async def my_enrollments_connection(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description="How many, 0-100; null: 20.")] = 20,
        after: Annotated[
            str | None, strawberry.argument(description="The endCursor of the previous page; null: from the newest.")
        ] = None,
    ) -> Connection[Enrollment]:
        ctx = info.context
        viewer = ctx.require_viewer()
        limit, cursor = page_size(first), decode_cursor(after) if after else None
        async with ctx.read() as session:
            rows = await service.page_of_viewer(session, ctx.tenant.id, viewer, cursor, limit + 1)
        return connection(rows, limit, Enrollment.from_row, "enrolled_at")

    @strawberry.field(
        description="The course's enrollments (any status), newest first, a page at a time: for its instructor and "
        "admins (courseStudents lists them all). Errors: UNAUTHENTICATED without a token; NOT_FOUND when the course "
        "is unknown or hidden from you; FORBIDDEN for anyone else; BAD_USER_INPUT for `first` outside 0-100 or an "
        "invalid cursor."
    )
    async def course_students_connection(
        self,
        info: Info,
        course_id: Annotated[strawberry.ID, strawberry.argument(description="The course's id.")],
        first: Annotated[int | None, strawberry.argument(description="How many, 0-100; null: 20.")] = 20,
        after: Annotated[
            str | None, strawberry.argument(description="The endCursor of the previous page; null: from the newest.")
        ] = None,
    ) -> Connection[Enrollment]:
        ctx = info.context
        course = await visible_course(ctx, course_id)
        viewer = ctx.require_viewer()
        limit, cursor = page_size(first), decode_cursor(after) if after else None
        async with ctx.read() as session:
            rows = await service.students_page(
                session, ctx.tenant.id, viewer, course.key, course.instructor_id, cursor, limit + 1
            )
        return connection(rows, limit, Enrollment.from_row, "enrolled_at")


@strawberry.type
class EnrollmentMutations:
    @strawberry.mutation(
        description="Enroll the signed-in user in a published course; emits student.enrolled and notifies the "
        "course's instructor. Errors: UNAUTHENTICATED without a token; FORBIDDEN for a platform operator visiting "
        "another tenant; NOT_FOUND when the course is unknown or hidden from you; BAD_USER_INPUT when it is not "
        "published; CONFLICT when already enrolled; COURSE_FULL when maxEnrollment is reached."
    )
    async def enroll_in_course(
        self, info: Info, course_id: Annotated[strawberry.ID, strawberry.argument(description="The course to join.")]
    ) -> Enrollment:
        ctx = info.context
        viewer = ctx.require(Permission.COURSE_ENROLL)
        key = require_id(course_id, "course")
        async with ctx.write() as session:
            enrollment = await service.enroll(session, ctx.tenant, viewer, key)
        return Enrollment.from_row(enrollment)

    @strawberry.mutation(
        description="The signed-in learner leaves a course: the seat is freed for others; the enrollment and its "
        "progress stay as history (DROPPED), and enrolling again reopens them. Emits student.dropped. Errors: "
        "UNAUTHENTICATED without a token; NOT_FOUND when the course is unknown or hidden, or you are not enrolled; "
        "BAD_USER_INPUT for a completed course (it stays on your record)."
    )
    async def drop_enrollment(
        self, info: Info, course_id: Annotated[strawberry.ID, strawberry.argument(description="The course to leave.")]
    ) -> Enrollment:
        ctx = info.context
        viewer = ctx.require_viewer()
        key = require_id(course_id, "course")
        async with ctx.write() as session:
            enrollment = await service.drop(session, ctx.tenant, viewer, key, None)
        return Enrollment.from_row(enrollment)

    @strawberry.mutation(
        description="The course's instructor or an admin removes a student from the course: as dropEnrollment, and "
        "the student is notified. Errors: UNAUTHENTICATED without a token; NOT_FOUND when the course is unknown or "
        "hidden, or the user is not enrolled in it; FORBIDDEN when you may not edit the course; BAD_USER_INPUT for "
        "a completed enrollment."
    )
    async def remove_student(
        self,
        info: Info,
        course_id: Annotated[strawberry.ID, strawberry.argument(description="The course.")],
        user_id: Annotated[strawberry.ID, strawberry.argument(description="The student to remove.")],
    ) -> Enrollment:
        ctx = info.context
        viewer = ctx.require_viewer()
        course, student = require_id(course_id, "course"), require_id(user_id, "user")
        async with ctx.write() as session:
            enrollment = await service.drop(session, ctx.tenant, viewer, course, student)
        return Enrollment.from_row(enrollment)

    @strawberry.mutation(
        description="Record the signed-in user's progress on a lesson of a course they are enrolled in. Progress "
        "never decreases (a lower value changes nothing); the course percent and completion move with it. Emits "
        "lesson.progressed when it rises and, once per lesson, lesson.completed. Errors: UNAUTHENTICATED without a "
        "token; NOT_FOUND when the lesson is unknown or its course hidden from you; FORBIDDEN when not enrolled "
        "(or dropped), and for a platform operator visiting another tenant; BAD_USER_INPUT for progress outside "
        "0-100."
    )
    async def update_lesson_progress(
        self,
        info: Info,
        lesson_id: Annotated[strawberry.ID, strawberry.argument(description="The lesson's id.")],
        progress: Annotated[int, strawberry.argument(description="How much of the lesson is done, 0-100.")],
    ) -> LessonProgress:
        ctx = info.context
        viewer = ctx.require(Permission.PROGRESS_TRACK_OWN)
        key = require_id(lesson_id, "lesson")
        async with ctx.write() as session:
            row = await service.update_progress(session, ctx.tenant, viewer, key, progress)
        return LessonProgress.from_row(row)
