"""A learner's own dashboard: each of its lists is one statement (dashboard/repository.py),
always of the viewer's own rows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql.dashboard.repository import DashboardRepository, EnrolledParts, Joined


async def enrolled_with_trees(
    session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID, parts: EnrolledParts, *, trees: bool
) -> tuple[Joined, Joined | None]:
    """The user's enrollments with the parts asked for and, with ``trees``, their courses'
    modules and lessons with the user's progress."""
    repository = DashboardRepository(session, tenant_id)
    enrolled = await repository.enrolled(user_id, parts)
    if not trees or not enrolled.rows:
        return enrolled, None
    course_ids: Sequence[uuid.UUID] = [row.enrollment__course_id for row in enrolled.rows]
    return enrolled, await repository.course_trees(user_id, course_ids)


async def certificates(session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID) -> Joined:
    return await DashboardRepository(session, tenant_id).certificates(user_id)


async def upcoming_assessments(session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID) -> Joined:
    return await DashboardRepository(session, tenant_id).upcoming_assessments(user_id, datetime.now(UTC))


async def recent_activity(session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID) -> list[Row[Any]]:
    return await DashboardRepository(session, tenant_id).recent_activity(user_id)
