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
    lessons: list[Any]


async def course_numbers(
    session: AsyncSession, tenant_id: uuid.UUID, viewer: Viewer, course_id: uuid.UUID, instructor_id: object
) -> CourseNumbers:
    if not policies.may_read_analytics(viewer, instructor_id):
        raise LmsError(ErrorCode.FORBIDDEN, "only the course's instructor or an admin may see its analytics")
    repo = AnalyticsRepository(session, tenant_id)
    totals = await repo.course_enrollments(course_id)
    average_score = await repo.average_score_percent(course_id)
    return CourseNumbers(totals, average_score, list(await repo.lesson_completions(course_id)))


async def tenant_numbers(session: AsyncSession, tenant_id: uuid.UUID, viewer: Viewer) -> Any:
    if not viewer.can(Permission.TENANT_OVERVIEW):
        raise LmsError(ErrorCode.FORBIDDEN, "your role does not allow this")
    return await AnalyticsRepository(session, tenant_id).tenant_overview()


def rate(part: int, whole: int) -> float:
    """part / whole, a fraction 0-1 (4 decimals); 0 without a whole."""
    return round(part / whole, 4) if whole else 0.0
