"""Course and tenant numbers, for those whose role allows them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql.analytics.repository import AnalyticsRepository
from lms_graphql.auth import policies
from lms_graphql.auth.permissions import Permission
from lms_graphql.auth.viewer import Viewer
from lms_graphql.errors import ErrorCode, LmsError


@dataclass(frozen=True)
class CourseNumbers:
    totals: Any
    average_score: float | None
    lessons: list[Any]  # each lesson's row, with its completed_count

    @property
    def enrollment_count(self) -> int:
        return int(self.totals.enrolled)

    @property
    def completed_count(self) -> int:
        return int(self.totals.completed)

    @property
    def completion_rate(self) -> float:
        return rate(self.completed_count, self.enrollment_count)

    @property
    def average_progress(self) -> float:
        return round(float(self.totals.average_progress), 2)

    def lesson_rate(self, lesson: Any) -> float:
        """A lesson's completions over the course's enrollments."""
        return rate(int(lesson.completed_count), self.enrollment_count)


@dataclass(frozen=True)
class TenantNumbers:
    """What both transports answer of a tenant (GraphQL's TenantOverview, REST's overview)."""

    user_count: int
    student_count: int
    instructor_count: int
    course_count: int
    published_course_count: int
    enrollment_count: int
    completion_rate: float


async def course_numbers(
    session: AsyncSession, tenant_id: uuid.UUID, viewer: Viewer, course_id: uuid.UUID, instructor_id: object
) -> CourseNumbers:
    if not policies.may_read_analytics(viewer, instructor_id):
        raise LmsError(ErrorCode.FORBIDDEN, "only the course's instructor or an admin may see its analytics")
    repo = AnalyticsRepository(session, tenant_id)
    totals = await repo.course_enrollments(course_id)
    average_score = await repo.average_score_percent(course_id)
    return CourseNumbers(totals, average_score, list(await repo.lesson_completions(course_id)))


async def tenant_numbers(session: AsyncSession, tenant_id: uuid.UUID, viewer: Viewer) -> TenantNumbers:
    if not viewer.can(Permission.TENANT_OVERVIEW):
        raise LmsError(ErrorCode.FORBIDDEN, "your role does not allow this")
    row = await AnalyticsRepository(session, tenant_id).tenant_overview()
    return TenantNumbers(
        user_count=row.users,
        student_count=row.students,
        instructor_count=row.instructors,
        course_count=row.courses,
        published_course_count=row.published_courses,
        enrollment_count=row.enrollments,
        completion_rate=rate(row.completed_enrollments, row.enrollments),
    )


def rate(part: int, whole: int) -> float:
    """part / whole, a fraction 0-1 (4 decimals); 0 without a whole."""
    return round(part / whole, 4) if whole else 0.0
