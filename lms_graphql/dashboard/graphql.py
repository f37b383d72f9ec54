"""The seed's one-request student dashboard.

Each list is one statement that also carries what the query selects below it (looked ahead
once, from the ``myDashboard`` selection), plus one for the enrolled courses' modules and
lessons. Course trees are built whole (their fields then resolve without awaiting); the other
rows are primed into the request's loaders, so the shared types resolve without more SQL.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

import strawberry
from strawberry.scalars import JSON

from lms_graphql.assessments.types import Assessment, Certificate
from lms_graphql.auth import policies
from lms_graphql.context import Context, Info
from lms_graphql.courses.types import Course, Lesson
from lms_graphql.dashboard import service
from lms_graphql.dashboard.priming import course_trees, prime_enrolled
from lms_graphql.dashboard.repository import EnrolledParts
from lms_graphql.kit.lookahead import Lookahead


@strawberry.type(description="One of the signed-in user's own domain events, as recorded in the outbox.")
class ActivityEvent:
    id: strawberry.ID = strawberry.field(description="The event's id.")
    event_type: str = strawberry.field(
        description="The domain event type, e.g. student.enrolled, lesson.completed or assessment.graded."
    )
    occurred_at: datetime = strawberry.field(description="When it happened (UTC).")
    course_id: strawberry.ID | None = strawberry.field(description="The course it concerns; null when none.")
    payload: JSON = strawberry.field(description="The event's payload, a JSON object as in the domain event.")


@strawberry.type(description="One of the student's courses on the dashboard, with the student's progress in it.")
class EnrolledCourseProgress:
    progress_percent: float = strawberry.field(
        description="Completed lessons / all lessons of the course, as a percent 0-100 (2 decimals)."
    )
    last_accessed_at: datetime | None = strawberry.field(
        description="When the student last recorded progress in the course; null if never."
    )
    course: Course = strawberry.field(description="The course.")
    next_lesson: Lesson | None = strawberry.field(
        description="The first lesson not completed, in module and lesson order; null when every lesson is."
    )
    percent: strawberry.Private[Decimal]  # progress_percent as stored (2 decimals)


@dataclass(frozen=True)
class DashboardPlan:
    """What the dashboard's statements join, from what the query selects."""

    enrolled: EnrolledParts
    course_trees: bool

    @classmethod
    def of(cls, selection: Lookahead) -> DashboardPlan:
        enrolled = selection.child("enrolledCourses")
        course = enrolled.child("course")
        return cls(
            enrolled=EnrolledParts(
                instructor="instructor" in course,
                seats="enrollmentCount" in course or "completionRate" in course,
                next_lesson="nextLesson" in enrolled,
            ),
            course_trees="modules" in course,
        )


@strawberry.type(
    description="The signed-in user's home page: their courses and progress, what is due, recent activity and "
    "certificates."
)
class StudentDashboard:
    user_id: strawberry.Private[uuid.UUID]
    plan: strawberry.Private[DashboardPlan]

    async def _enrolled(self, ctx: Context) -> list[EnrolledCourseProgress]:
        async def fetch() -> list[EnrolledCourseProgress]:
            async with ctx.read() as session:
                enrolled, joined_trees = await service.enrolled_with_trees(
                    session, ctx.tenant.id, self.user_id, self.plan.enrolled, trees=self.plan.course_trees
                )
            trees = {}
            if joined_trees is not None:
                course_ids = [row.enrollment__course_id for row in enrolled.rows]
                viewer = ctx.require_viewer()
                editable = {
                    row.enrollment__course_id
                    for row in enrolled.rows
                    if policies.may_edit_course(viewer, enrolled.part(row, "course").instructor_id)
                }
                trees = course_trees(ctx.loaders, course_ids, joined_trees, editable)
            return prime_enrolled(ctx.loaders, enrolled, self.plan.enrolled, trees)

        return await ctx.once(f"dashboard.enrolled.{self.plan}", fetch)

    async def _certificates(self, ctx: Context) -> list[Certificate]:
        async def fetch() -> list[Certificate]:
            async with ctx.read() as session:
                joined = await service.certificates(session, ctx.tenant.id, self.user_id)
            ctx.loaders.course.prime_many({row.course__id: joined.part(row, "course") for row in joined.rows})
            return [Certificate.from_row(joined.part(row, "certificate")) for row in joined.rows]

        return await ctx.once("dashboard.certificates", fetch)

    @strawberry.field(description="Active and completed enrollments, newest first.")
    async def enrolled_courses(self, info: Info) -> list[EnrolledCourseProgress]:
        return await self._enrolled(info.context)

    @strawberry.field(
        description="Assessments of the user's active and completed courses not yet passed, due in the future or "
        "without a due date; soonest due first."
    )
    async def upcoming_assessments(self, info: Info) -> list[Assessment]:
        ctx = info.context
        async with ctx.read() as session:
            joined = await service.upcoming_assessments(session, ctx.tenant.id, self.user_id)
        ctx.loaders.course.prime_many({row.course__id: joined.part(row, "course") for row in joined.rows})
        return [Assessment.from_row(joined.part(row, "assessment")) for row in joined.rows]

    @strawberry.field(description="The user's own 20 latest domain events, newest first.")
    async def recent_activity(self, info: Info) -> list[ActivityEvent]:
        ctx = info.context
        async with ctx.read() as session:
            rows = await service.recent_activity(session, ctx.tenant.id, self.user_id)
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

    @strawberry.field(description="Mean of the enrolled courses' percents, 0-100 (2 decimals); 0 without enrollments.")
    async def overall_progress(self, info: Info) -> float:
        enrolled = await self._enrolled(info.context)
        if not enrolled:
            return 0.0
        # In decimals, rounded half up: what PostgreSQL's round(avg(...), 2) gives (compiled reads).
        mean = sum((entry.percent for entry in enrolled), Decimal(0)) / len(enrolled)
        return float(mean.quantize(Decimal("0.01"), ROUND_HALF_UP))

    @strawberry.field(description="How many certificates the user has earned.")
    async def certificates_earned(self, info: Info) -> int:
        return len(await self._certificates(info.context))

    @strawberry.field(description="The user's certificates, newest first.")
    async def certificates(self, info: Info) -> list[Certificate]:
        return await self._certificates(info.context)


@strawberry.type
class DashboardQueries:
    @strawberry.field(
        description="Everything the student's home page shows, in one request. Errors: UNAUTHENTICATED without a token."
    )
    def my_dashboard(self, info: Info) -> StudentDashboard:
        return StudentDashboard(user_id=info.context.require_viewer().id, plan=DashboardPlan.of(Lookahead.of(info)))
