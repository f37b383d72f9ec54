"""The seed's one-request student dashboard. Each piece is computed only when asked for."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from lms_graphql.assessments.repository import AssessmentRepository
from lms_graphql.assessments.types import Assessment, Certificate
from lms_graphql.context import Context
from lms_graphql.courses.types import Course, Lesson, lessons_for
from lms_graphql.dashboard.repository import ActivityRepository
from lms_graphql.enrollments.repository import EnrollmentRepository

Info = strawberry.Info[Context, None]


@strawberry.type
class ActivityEvent:
    id: strawberry.ID
    event_type: str
    occurred_at: datetime
    course_id: strawberry.ID | None
    payload: JSON


@strawberry.type
class EnrolledCourseProgress:
    progress_percent: float
    last_accessed_at: datetime | None
    course_key: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def course(self, info: Info) -> Course:
        return Course.from_row(await info.context.loaders.course.load(self.course_key))

    @strawberry.field(description="The first lesson not completed, in module and lesson order.")
    async def next_lesson(self, info: Info) -> Lesson | None:
        row = await info.context.loaders.next_lesson.load(self.course_key)
        return (await lessons_for(info.context, [row]))[0] if row is not None else None


@strawberry.type
class StudentDashboard:
    user_id: strawberry.Private[uuid.UUID]

    async def _enrollments(self, ctx: Context) -> list[Any]:
        async def fetch() -> list[Any]:
            async with ctx.read() as session:
                return await EnrollmentRepository(session, ctx.tenant.id).of_user(self.user_id, active_only=True)

        return await ctx.once("dashboard.enrollments", fetch)

    async def _certificates(self, ctx: Context) -> list[Any]:
        async def fetch() -> list[Any]:
            async with ctx.read() as session:
                return await AssessmentRepository(session, ctx.tenant.id).certificates_of(self.user_id)

        return await ctx.once("dashboard.certificates", fetch)

    @strawberry.field(description="Active and completed enrollments, newest first.")
    async def enrolled_courses(self, info: Info) -> list[EnrolledCourseProgress]:
        return [
            EnrolledCourseProgress(
                progress_percent=float(row.progress_pct),
                last_accessed_at=row.last_accessed_at,
                course_key=row.course_id,
            )
            for row in await self._enrollments(info.context)
        ]

    @strawberry.field(description="Not yet passed, due in the future or without a due date.")
    async def upcoming_assessments(self, info: Info) -> list[Assessment]:
        ctx = info.context
        async with ctx.read() as session:
            rows = await AssessmentRepository(session, ctx.tenant.id).upcoming_for(self.user_id, datetime.now(UTC))
        return [Assessment.from_row(row) for row in rows]

    @strawberry.field(description="The user's own latest domain events, newest first.")
    async def recent_activity(self, info: Info) -> list[ActivityEvent]:
        ctx = info.context
        async with ctx.read() as session:
            rows = await ActivityRepository(session, ctx.tenant.id).recent_for(self.user_id)
        return [
            ActivityEvent(
                id=strawberry.ID(str(row.id)),
                event_type=row.event_type,
                occurred_at=row.occurred_at,
                course_id=strawberry.ID(str(row.course_id)) if row.course_id else None,
                payload=row.payload,
            )
            for row in rows
        ]

    @strawberry.field(description="Mean of the enrolled courses' percents, 0-100.")
    async def overall_progress(self, info: Info) -> float:
        rows = await self._enrollments(info.context)
        if not rows:
            return 0.0
        return round(sum(float(row.progress_pct) for row in rows) / len(rows), 2)

    @strawberry.field
    async def certificates_earned(self, info: Info) -> int:
        return len(await self._certificates(info.context))

    @strawberry.field
    async def certificates(self, info: Info) -> list[Certificate]:
        return [Certificate.from_row(row) for row in await self._certificates(info.context)]


@strawberry.type
class DashboardQueries:
    @strawberry.field(description="Everything the student's home page shows, in one request.")
    def my_dashboard(self, info: Info) -> StudentDashboard:
        return StudentDashboard(user_id=info.context.require_viewer().id)
