"""SQL for enrollments and lesson progress."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, func, select

from lms_graphql import models
from lms_graphql.kit.pagination import Keyset
from lms_graphql.kit.repository import TenantScopedRepository, newest_first
from lms_graphql.models.tables import ENROLLMENTS, LESSONS, PROGRESS, live, same_lesson

# Enrollments that hold a seat and count in statistics.
ACTIVE_STATUSES = ("active", "completed")


def course_percent(completed: int, total: int) -> Decimal:
    """Completed lessons over all lessons, 0-100 with two decimals."""
    if total == 0:
        return Decimal(0)
    return (Decimal(100 * completed) / Decimal(total)).quantize(Decimal("0.01"))


class EnrollmentRepository(TenantScopedRepository):
    async def of_user(self, user_id: uuid.UUID, *, active_only: bool = False) -> list[Row[Any]]:
        statement = select(ENROLLMENTS).where(self.in_tenant(ENROLLMENTS), ENROLLMENTS.c.user_id == user_id)
        if active_only:
            statement = statement.where(ENROLLMENTS.c.status.in_(ACTIVE_STATUSES))
        statement = statement.order_by(ENROLLMENTS.c.enrolled_at.desc(), ENROLLMENTS.c.id)
        return list((await self.session.execute(statement)).all())

    async def page_of_user(self, user_id: uuid.UUID, after: Keyset | None, limit: int) -> list[Row[Any]]:
        statement = select(ENROLLMENTS).where(self.in_tenant(ENROLLMENTS), ENROLLMENTS.c.user_id == user_id)
        page = newest_first(statement, ENROLLMENTS.c.enrolled_at, ENROLLMENTS.c.id, after, limit)
        return list((await self.session.execute(page)).all())

    async def page_of_course(self, course_id: uuid.UUID, after: Keyset | None, limit: int) -> list[Row[Any]]:
        statement = select(ENROLLMENTS).where(self.in_tenant(ENROLLMENTS), ENROLLMENTS.c.course_id == course_id)
        page = newest_first(statement, ENROLLMENTS.c.enrolled_at, ENROLLMENTS.c.id, after, limit)
        return list((await self.session.execute(page)).all())

    async def of_course(self, course_id: uuid.UUID) -> list[Row[Any]]:
        statement = (
            select(ENROLLMENTS)
            .where(self.in_tenant(ENROLLMENTS), ENROLLMENTS.c.course_id == course_id)
            .order_by(ENROLLMENTS.c.enrolled_at, ENROLLMENTS.c.id)
        )
        return list((await self.session.execute(statement)).all())

    async def stats(self, course_ids: Sequence[uuid.UUID]) -> list[Row[Any]]:
        """Per course: seats taken and completions."""
        statement = (
            select(
                ENROLLMENTS.c.course_id,
                func.count().label("enrolled"),
                func.count().filter(ENROLLMENTS.c.status == "completed").label("completed"),
            )
            .where(
                self.in_tenant(ENROLLMENTS),
                ENROLLMENTS.c.course_id.in_(course_ids),
                ENROLLMENTS.c.status.in_(ACTIVE_STATUSES),
            )
            .group_by(ENROLLMENTS.c.course_id)
        )
        return list((await self.session.execute(statement)).all())

    async def seats_taken(self, course_id: uuid.UUID) -> int:
        statement = select(func.count()).where(
            self.in_tenant(ENROLLMENTS),
            ENROLLMENTS.c.course_id == course_id,
            ENROLLMENTS.c.status.in_(ACTIVE_STATUSES),
        )
        return int((await self.session.execute(statement)).scalar_one())

    async def lock(self, user_id: uuid.UUID, course_id: uuid.UUID) -> models.Enrollment | None:
        """The enrollment row, locked: one student's progress writes in a course serialise on it."""
        statement = (
            select(models.Enrollment)
            .where(
                self.in_tenant(models.Enrollment),
                models.Enrollment.user_id == user_id,
                models.Enrollment.course_id == course_id,
            )
            .with_for_update()
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def progress_of(self, user_id: uuid.UUID, lesson_ids: Sequence[uuid.UUID]) -> list[Row[Any]]:
        statement = select(PROGRESS).where(
            self.in_tenant(PROGRESS),
            PROGRESS.c.user_id == user_id,
            PROGRESS.c.lesson_id.in_(lesson_ids),
        )
        return list((await self.session.execute(statement)).all())

    async def progress_row(self, user_id: uuid.UUID, lesson_id: uuid.UUID) -> models.LessonProgress | None:
        statement = select(models.LessonProgress).where(
            self.in_tenant(models.LessonProgress),
            models.LessonProgress.user_id == user_id,
            models.LessonProgress.lesson_id == lesson_id,
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def completion(self, user_id: uuid.UUID, course_id: uuid.UUID) -> tuple[int, int]:
        """(completed live lessons of the user, all live lessons) in the course."""
        completed = (
            select(func.count())
            .select_from(PROGRESS.join(LESSONS, same_lesson()))
            .where(
                self.in_tenant(PROGRESS),
                PROGRESS.c.user_id == user_id,
                PROGRESS.c.course_id == course_id,
                PROGRESS.c.status == "completed",
                live(LESSONS),
            )
            .scalar_subquery()
        )
        total = (
            select(func.count())
            .select_from(LESSONS)
            .where(self.in_tenant(LESSONS), LESSONS.c.course_id == course_id, live(LESSONS))
            .scalar_subquery()
        )
        row = (await self.session.execute(select(completed, total))).one()
        return int(row[0]), int(row[1])

    async def of_user_in(self, user_id: uuid.UUID, course_ids: Sequence[uuid.UUID]) -> list[Row[Any]]:
        statement = select(ENROLLMENTS).where(
            self.in_tenant(ENROLLMENTS),
            ENROLLMENTS.c.user_id == user_id,
            ENROLLMENTS.c.course_id.in_(course_ids),
        )
        return list((await self.session.execute(statement)).all())
