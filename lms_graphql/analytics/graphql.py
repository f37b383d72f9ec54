"""Course analytics (its instructor, admins) and the tenant overview (admins)."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import strawberry

from lms_graphql.analytics import service
from lms_graphql.context import Info
from lms_graphql.courses.graphql import visible_course
from lms_graphql.courses.types import Lesson, lessons_for
from lms_graphql.tenancy.graphql import TenantPlacement


@strawberry.type(description="How many of a course's students completed one lesson.")
class LessonCompletionStat:
    lesson: Lesson = strawberry.field(description="The lesson.")
    completed_count: int = strawberry.field(description="Enrolled students (active or completed) who completed it.")
    completion_rate: float = strawberry.field(
        description="Completed / enrolled students, a fraction 0-1 (4 decimals); 0 without enrollments."
    )


@strawberry.type(description="A course's enrollment, progress and score numbers: for its instructor and admins.")
class CourseAnalytics:
    course_id: strawberry.ID = strawberry.field(description="The course's id.")
    enrollment_count: int = strawberry.field(description="Students enrolled: active and completed enrollments.")
    completed_count: int = strawberry.field(description="Completed enrollments.")
    completion_rate: float = strawberry.field(
        description="Completed / enrolled, a fraction 0-1 (4 decimals); 0 without enrollments."
    )
    average_progress: float = strawberry.field(
        description="Mean course percent of enrolled students, 0-100 (2 decimals)."
    )
    average_score: float | None = strawberry.field(
        description="Mean of each student's best graded score per assessment, as a percent of its maximum (0-100, "
        "2 decimals); null while nothing is graded."
    )
    lesson_completion: list[LessonCompletionStat] = strawberry.field(
        description="Every lesson of the course in reading order (module, then lesson position), with its completions."
    )


@strawberry.type(description="Counts across the tenant: for admins.")
class TenantOverview:
    user_count: int = strawberry.field(description="Active users of every role.")
    student_count: int = strawberry.field(description="Active students.")
    instructor_count: int = strawberry.field(description="Active instructors.")
    course_count: int = strawberry.field(description="Courses in any status.")
    published_course_count: int = strawberry.field(description="Published courses.")
    enrollment_count: int = strawberry.field(description="Active and completed enrollments.")
    completion_rate: float = strawberry.field(
        description="Completed / active and completed enrollments, a fraction 0-1 (4 decimals); 0 without enrollments."
    )
    placement: TenantPlacement = strawberry.field(
        description="Where the tenant's data lives: the shared pool, a schema or a database of its own. The API "
        "answers alike in each."
    )
    region: str = strawberry.field(description="The region the tenant's data stays in.")


@strawberry.type
class AnalyticsQueries:
    @strawberry.field(
        description="A course's numbers: for its instructor and admins. Errors: UNAUTHENTICATED without a token; "
        "NOT_FOUND when the course is unknown or hidden from you; FORBIDDEN for anyone else."
    )
    async def course_analytics(
        self, info: Info, course_id: Annotated[strawberry.ID, strawberry.argument(description="The course's id.")]
    ) -> CourseAnalytics:
        ctx = info.context
        course = await visible_course(ctx, course_id)
        async with ctx.read() as session:
            numbers = await service.course_numbers(
                session, ctx.tenant.id, ctx.require_viewer(), course.key, course.instructor_id
            )
        lesson_types = await lessons_for(ctx, numbers.lessons)
        return CourseAnalytics(
            course_id=course.id,
            enrollment_count=numbers.enrollment_count,
            completed_count=numbers.completed_count,
            completion_rate=numbers.completion_rate,
            average_progress=numbers.average_progress,
            average_score=numbers.average_score,
            lesson_completion=[
                LessonCompletionStat(
                    lesson=lesson, completed_count=int(row.completed_count), completion_rate=numbers.lesson_rate(row)
                )
                for row, lesson in zip(numbers.lessons, lesson_types, strict=True)
            ],
        )

    @strawberry.field(
        description="Counts across the tenant: for admins. Errors: UNAUTHENTICATED without a token; FORBIDDEN below "
        "admin."
    )
    async def tenant_overview(self, info: Info) -> TenantOverview:
        ctx = info.context
        viewer = ctx.require_viewer()
        async with ctx.read() as session:
            numbers = await service.tenant_numbers(session, ctx.tenant.id, viewer)
        placement = TenantPlacement(ctx.tenant.placement)
        return TenantOverview(**dataclasses.asdict(numbers), placement=placement, region=ctx.tenant.region)
