"""Aggregate SQL for instructors' and admins' reports."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Row, Table, and_, func, select

from lms_graphql.enrollments.repository import ACTIVE_STATUSES
from lms_graphql.kit.repository import TenantScopedRepository
from lms_graphql.models.tables import (
    ASSESSMENTS,
    COURSES,
    ENROLLMENTS,
    LESSONS,
    MODULES,
    PROGRESS,
    SUBMISSIONS,
    USERS,
    live,
)


class AnalyticsRepository(TenantScopedRepository):
    async def course_enrollments(self, course_id: uuid.UUID) -> Row[Any]:
        statement = select(
            func.count().label("enrolled"),
            func.count().filter(ENROLLMENTS.c.status == "completed").label("completed"),
            func.coalesce(func.avg(ENROLLMENTS.c.progress_pct), 0).label("average_progress"),
        ).where(
            self.in_tenant(ENROLLMENTS),
            ENROLLMENTS.c.course_id == course_id,
            ENROLLMENTS.c.status.in_(ACTIVE_STATUSES),
        )
        row: Row[Any] = (await self.session.execute(statement)).one()
        return row

    async def average_score_percent(self, course_id: uuid.UUID) -> float | None:
        """Mean over (student, assessment) of the best graded score, as a percent of the maximum."""
        best = (
            select(func.max(SUBMISSIONS.c.score * 100 / ASSESSMENTS.c.max_score).label("best"))
            .select_from(SUBMISSIONS)
            .join(
                ASSESSMENTS,
                and_(
                    ASSESSMENTS.c.tenant_id == SUBMISSIONS.c.tenant_id,
                    ASSESSMENTS.c.id == SUBMISSIONS.c.assessment_id,
                ),
            )
            .where(
                self.in_tenant(SUBMISSIONS),
                ASSESSMENTS.c.course_id == course_id,
                SUBMISSIONS.c.status == "graded",
            )
            .group_by(SUBMISSIONS.c.user_id, SUBMISSIONS.c.assessment_id)
            .subquery()
        )
        value = (await self.session.execute(select(func.avg(best.c.best)))).scalar()
        return None if value is None else round(float(value), 2)

    async def lesson_completions(self, course_id: uuid.UUID) -> list[Row[Any]]:
        """Every lesson of the course in reading order, with how many students completed it."""
        completed = (
            select(func.count())
            .select_from(PROGRESS)
            .join(
                ENROLLMENTS,
                and_(
                    ENROLLMENTS.c.tenant_id == PROGRESS.c.tenant_id,
                    ENROLLMENTS.c.user_id == PROGRESS.c.user_id,
                    ENROLLMENTS.c.course_id == PROGRESS.c.course_id,
                ),
            )
            .where(
                PROGRESS.c.tenant_id == LESSONS.c.tenant_id,
                PROGRESS.c.lesson_id == LESSONS.c.id,
                PROGRESS.c.status == "completed",
                ENROLLMENTS.c.status.in_(ACTIVE_STATUSES),
            )
            .scalar_subquery()
        )
        statement = (
            select(LESSONS, completed.label("completed_count"))
            .join(MODULES, and_(MODULES.c.tenant_id == LESSONS.c.tenant_id, MODULES.c.id == LESSONS.c.module_id))
            .where(self.in_tenant(LESSONS), LESSONS.c.course_id == course_id, live(LESSONS))
            .order_by(MODULES.c.position, MODULES.c.created_at, LESSONS.c.position, LESSONS.c.created_at)
        )
        return list((await self.session.execute(statement)).all())

    async def tenant_overview(self) -> Row[Any]:
        def count(table: Table, *conditions: Any) -> Any:
            return select(func.count()).select_from(table).where(self.in_tenant(table), *conditions).scalar_subquery()

        statement = select(
            count(USERS, USERS.c.is_active).label("users"),
            count(USERS, USERS.c.is_active, USERS.c.role == "student").label("students"),
            count(USERS, USERS.c.is_active, USERS.c.role == "instructor").label("instructors"),
            count(COURSES).label("courses"),
            count(COURSES, COURSES.c.status == "published").label("published_courses"),
            count(ENROLLMENTS, ENROLLMENTS.c.status.in_(ACTIVE_STATUSES)).label("enrollments"),
            count(ENROLLMENTS, ENROLLMENTS.c.status == "completed").label("completed_enrollments"),
        )
        result = await self.session.execute(statement)
        return result.one()  # type: ignore[return-value]
