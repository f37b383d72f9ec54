"""Course analytics (its instructor, admins) and the tenant overview (admins)."""

from __future__ import annotations

import strawberry

from lms_graphql.analytics import service
from lms_graphql.context import Info
from lms_graphql.courses.graphql import visible_course
from lms_graphql.courses.types import Lesson, lessons_for


@strawberry.type
class LessonCompletionStat:
    lesson: Lesson
    completed_count: int
    completion_rate: float = strawberry.field(description="Completed / enrolled students, 0-1.")


@strawberry.type
class CourseAnalytics:
    course_id: strawberry.ID
    enrollment_count: int
    completed_count: int
    completion_rate: float = strawberry.field(description="Completed / enrolled, 0-1.")
    average_progress: float = strawberry.field(description="Mean course percent of enrolled students, 0-100.")
    average_score: float | None = strawberry.field(
        description="Mean of each student's best graded score per assessment, as a percent of its maximum."
    )
    lesson_completion: list[LessonCompletionStat]


@strawberry.type
class TenantOverview:
    user_count: int
    student_count: int
    instructor_count: int
    course_count: int
    published_course_count: int
    enrollment_count: int
    completion_rate: float = strawberry.field(description="Completed / all enrollments, 0-1.")


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


@strawberry.type
class AnalyticsQueries:
    @strawberry.field
    async def course_analytics(self, info: Info, course_id: strawberry.ID) -> CourseAnalytics:
        ctx = info.context
        course = await visible_course(ctx, course_id)
        async with ctx.read() as session:
            numbers = await service.course_numbers(
                session, ctx.tenant.id, ctx.require_viewer(), course.key, course.instructor_id
            )
        totals, average_score, lessons = numbers.totals, numbers.average_score, numbers.lessons
        enrolled = int(totals.enrolled)
        lesson_types = await lessons_for(ctx, lessons)
        return CourseAnalytics(
            course_id=course.id,
            enrollment_count=enrolled,
            completed_count=int(totals.completed),
            completion_rate=_rate(int(totals.completed), enrolled),
            average_progress=round(float(totals.average_progress), 2),
            average_score=average_score,
            lesson_completion=[
                LessonCompletionStat(
                    lesson=lesson,
                    completed_count=int(row.completed_count),
                    completion_rate=_rate(int(row.completed_count), enrolled),
                )
                for row, lesson in zip(lessons, lesson_types, strict=True)
            ],
        )

    @strawberry.field(description="Counts across the tenant: for admins.")
    async def tenant_overview(self, info: Info) -> TenantOverview:
        ctx = info.context
        viewer = ctx.require_viewer()
        async with ctx.read() as session:
            row = await service.tenant_numbers(session, ctx.tenant.id, viewer)
        return TenantOverview(
            user_count=row.users,
            student_count=row.students,
            instructor_count=row.instructors,
            course_count=row.courses,
            published_course_count=row.published_courses,
            enrollment_count=row.enrollments,
            completion_rate=_rate(row.completed_enrollments, row.enrollments),
        )
