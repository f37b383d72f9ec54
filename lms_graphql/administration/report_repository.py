"""SQL for a course's reports: its gradebook and its completion, one row per enrolled learner,
read through a server-side cursor so that a 20 000-learner course streams in constant memory."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from typing import Any

from sqlalchemy import Row, and_, func, select

from lms_graphql.kit.repository import TenantScopedRepository
from lms_graphql.models.tables import (
    ASSESSMENTS,
    CERTIFICATES,
    ENROLLMENTS,
    LESSONS,
    PROGRESS,
    SUBMISSIONS,
    USERS,
    live,
)

BATCH = 1000


class ReportRepository(TenantScopedRepository):
    async def assessments_of(self, course_id: uuid.UUID) -> list[Row[Any]]:
        statement = (
            select(ASSESSMENTS)
            .where(self.in_tenant(ASSESSMENTS), ASSESSMENTS.c.course_id == course_id)
            .order_by(ASSESSMENTS.c.created_at, ASSESSMENTS.c.id)
        )
        return list((await self.session.execute(statement)).all())

    async def _stream(self, statement: Any) -> AsyncGenerator[list[Row[Any]], None]:
        result = await self.session.stream(statement.execution_options(yield_per=BATCH))
        try:
            async for partition in result.partitions(BATCH):
                yield list(partition)
        finally:  # a download that stops early (the client left) leaves no server-side cursor open
            await result.close()

    def _learners(self, course_id: uuid.UUID) -> Any:
        return (
            select(
                ENROLLMENTS.c.user_id,
                USERS.c.email,
                USERS.c.full_name,
                ENROLLMENTS.c.status,
                ENROLLMENTS.c.progress_pct,
            )
            .join(USERS, and_(USERS.c.tenant_id == ENROLLMENTS.c.tenant_id, USERS.c.id == ENROLLMENTS.c.user_id))
            .where(self.in_tenant(ENROLLMENTS), ENROLLMENTS.c.course_id == course_id)
            .order_by(USERS.c.email, ENROLLMENTS.c.user_id)
        )

    def gradebook(self, course_id: uuid.UUID) -> AsyncGenerator[list[Row[Any]], None]:
        """Each learner with ``scores`` (assessment id -> their best graded score; absent: none
        yet) and ``passed_count`` (the assessments some attempt of theirs passed): aggregated once,
        joined once, whatever the number of learners and assessments."""
        of_course = and_(
            ASSESSMENTS.c.tenant_id == SUBMISSIONS.c.tenant_id, ASSESSMENTS.c.id == SUBMISSIONS.c.assessment_id
        )
        best = (
            select(
                SUBMISSIONS.c.user_id,
                SUBMISSIONS.c.assessment_id,
                func.max(SUBMISSIONS.c.score).label("score"),
                func.bool_or(SUBMISSIONS.c.passed).label("passed"),
            )
            .join(ASSESSMENTS, of_course)
            .where(self.in_tenant(SUBMISSIONS), ASSESSMENTS.c.course_id == course_id, SUBMISSIONS.c.status == "graded")
            .group_by(SUBMISSIONS.c.user_id, SUBMISSIONS.c.assessment_id)
            .subquery("best")
        )
        per_learner = (
            select(
                best.c.user_id,
                func.jsonb_object_agg(best.c.assessment_id, best.c.score).label("scores"),
                func.count().filter(best.c.passed).label("passed_count"),
            )
            .group_by(best.c.user_id)
            .subquery("per_learner")
        )
        statement = (
            self._learners(course_id)
            .add_columns(per_learner.c.scores, per_learner.c.passed_count)
            .outerjoin(per_learner, per_learner.c.user_id == ENROLLMENTS.c.user_id)
        )
        return self._stream(statement)

    def completion(self, course_id: uuid.UUID) -> AsyncGenerator[list[Row[Any]], None]:
        """Each learner's enrollment, lessons completed of the course's live lessons, certificate."""
        lessons_total = (
            select(func.count())
            .where(self.in_tenant(LESSONS), LESSONS.c.course_id == course_id, live(LESSONS))
            .scalar_subquery()
        )
        completed = (
            select(PROGRESS.c.user_id, func.count().label("lessons_completed"))
            .join(LESSONS, and_(LESSONS.c.tenant_id == PROGRESS.c.tenant_id, LESSONS.c.id == PROGRESS.c.lesson_id))
            .where(
                self.in_tenant(PROGRESS),
                PROGRESS.c.course_id == course_id,
                PROGRESS.c.status == "completed",
                live(LESSONS),
            )
            .group_by(PROGRESS.c.user_id)
            .subquery("completed")
        )
        statement = (
            self._learners(course_id)
            .add_columns(
                func.coalesce(completed.c.lessons_completed, 0).label("lessons_completed"),
                lessons_total.label("lessons_total"),
                ENROLLMENTS.c.enrolled_at,
                ENROLLMENTS.c.completed_at,
                CERTIFICATES.c.verification_code,
                CERTIFICATES.c.issued_at,
            )
            .outerjoin(completed, completed.c.user_id == ENROLLMENTS.c.user_id)
            .outerjoin(
                CERTIFICATES,
                and_(
                    CERTIFICATES.c.tenant_id == ENROLLMENTS.c.tenant_id,
                    CERTIFICATES.c.user_id == ENROLLMENTS.c.user_id,
                    CERTIFICATES.c.course_id == ENROLLMENTS.c.course_id,
                ),
            )
        )
        return self._stream(statement)
