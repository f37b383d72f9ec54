"""SQL for courses and their content. Reads are Core selects returning rows; every query
also filters by the tenant (RLS is the second wall)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Numeric, Row, Table, and_, case, cast, func, or_, select, update

from lms_graphql import models
from lms_graphql.kit.pagination import Keyset
from lms_graphql.kit.repository import TenantScopedRepository, newest_first
from lms_graphql.models.tables import COURSES, ENROLLMENTS, LESSONS, MODULES, PROGRESS, live, same_lesson


@dataclass(frozen=True)
class CourseFilter:
    """Which courses a viewer may list: all, published plus own, or published only."""

    see_all: bool
    own_instructor_id: uuid.UUID | None = None
    status: str | None = None
    search: str | None = None


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class CourseRepository(TenantScopedRepository):
    # --- reads -----------------------------------------------------------------------

    async def by_ids(self, ids: Sequence[uuid.UUID]) -> list[Row[Any]]:
        statement = select(COURSES).where(self.in_tenant(COURSES), COURSES.c.id.in_(ids))
        return list((await self.session.execute(statement)).all())

    def _where(self, course_filter: CourseFilter) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = [self.in_tenant(COURSES)]
        if not course_filter.see_all:
            published = COURSES.c.status == "published"
            if course_filter.own_instructor_id is not None:
                clauses.append(or_(published, COURSES.c.instructor_id == course_filter.own_instructor_id))
            else:
                clauses.append(published)
        if course_filter.status is not None:
            clauses.append(COURSES.c.status == course_filter.status)
        if course_filter.search:
            pattern = f"%{escape_like(course_filter.search)}%"
            clauses.append(
                or_(
                    COURSES.c.title.ilike(pattern, escape="\\"),
                    COURSES.c.description.ilike(pattern, escape="\\"),
                )
            )
        return clauses

    async def page(self, course_filter: CourseFilter, after: Keyset | None, limit: int) -> list[Row[Any]]:
        """Newest first; ``limit`` rows after the keyset ``after``."""
        statement = select(COURSES).where(*self._where(course_filter))
        page = newest_first(statement, COURSES.c.created_at, COURSES.c.id, after, limit)
        return list((await self.session.execute(page)).all())

    async def count(self, course_filter: CourseFilter) -> int:
        statement = select(func.count()).select_from(COURSES).where(*self._where(course_filter))
        return int((await self.session.execute(statement)).scalar_one())

    async def modules_of(self, course_ids: Sequence[uuid.UUID]) -> list[Row[Any]]:
        statement = (
            select(MODULES)
            .where(self.in_tenant(MODULES), MODULES.c.course_id.in_(course_ids), live(MODULES))
            .order_by(MODULES.c.course_id, MODULES.c.position, MODULES.c.created_at, MODULES.c.id)
        )
        return list((await self.session.execute(statement)).all())

    async def modules_by_ids(self, ids: Sequence[uuid.UUID]) -> list[Row[Any]]:
        statement = select(MODULES).where(self.in_tenant(MODULES), MODULES.c.id.in_(ids))
        return list((await self.session.execute(statement)).all())

    async def lessons_of(self, module_ids: Sequence[uuid.UUID]) -> list[Row[Any]]:
        statement = (
            select(LESSONS)
            .where(self.in_tenant(LESSONS), LESSONS.c.module_id.in_(module_ids), live(LESSONS))
            .order_by(LESSONS.c.module_id, LESSONS.c.position, LESSONS.c.created_at, LESSONS.c.id)
        )
        return list((await self.session.execute(statement)).all())

    async def lessons_by_ids(self, ids: Sequence[uuid.UUID]) -> list[Row[Any]]:
        """Archived ones too: a progress row still names its lesson."""
        statement = select(LESSONS).where(self.in_tenant(LESSONS), LESSONS.c.id.in_(ids))
        return list((await self.session.execute(statement)).all())

    async def live_lesson(self, lesson_id: uuid.UUID, user_id: uuid.UUID) -> Row[Any] | None:
        """The lesson, unless archived, with why it is locked for ``user_id`` (``lock_reason``,
        lesson_lock(), migration 0014; NULL: open); key-share locked, so that removing it
        (authoring/service.py) waits for this transaction, or this one for the removal and then
        finds no lesson."""
        reason = func.lesson_lock(LESSONS.c.tenant_id, LESSONS.c.id, user_id).label("lock_reason")
        statement = (
            select(LESSONS, reason)
            .where(self.in_tenant(LESSONS), LESSONS.c.id == lesson_id, live(LESSONS))
            .with_for_update(key_share=True)
        )
        return (await self.session.execute(statement)).first()

    async def lesson_locks(self, ids: Sequence[uuid.UUID], user_id: uuid.UUID) -> dict[uuid.UUID, str | None]:
        """Why each lesson is locked for ``user_id`` (None: open)."""
        reason = func.lesson_lock(LESSONS.c.tenant_id, LESSONS.c.id, user_id)
        statement = select(LESSONS.c.id, reason).where(self.in_tenant(LESSONS), LESSONS.c.id.in_(ids))
        return {row[0]: row[1] for row in (await self.session.execute(statement)).all()}

    async def module_locks(self, ids: Sequence[uuid.UUID], user_id: uuid.UUID) -> dict[uuid.UUID, str | None]:
        """Why each module is locked for ``user_id`` (None: open)."""
        reason = func.module_lock(MODULES.c.tenant_id, MODULES.c.id, user_id)
        statement = select(MODULES.c.id, reason).where(self.in_tenant(MODULES), MODULES.c.id.in_(ids))
        return {row[0]: row[1] for row in (await self.session.execute(statement)).all()}

    async def content_counts(self, course_id: uuid.UUID) -> tuple[int, int]:
        modules = (
            select(func.count())
            .select_from(MODULES)
            .where(self.in_tenant(MODULES), MODULES.c.course_id == course_id, live(MODULES))
            .scalar_subquery()
        )
        lessons = (
            select(func.count())
            .select_from(LESSONS)
            .where(self.in_tenant(LESSONS), LESSONS.c.course_id == course_id, live(LESSONS))
            .scalar_subquery()
        )
        row = (await self.session.execute(select(modules, lessons))).one()
        return int(row[0]), int(row[1])

    # --- writes ----------------------------------------------------------------------

    async def lock(self, course_id: uuid.UUID) -> models.Course | None:
        """The course row, locked: content edits and enrollments of one course serialise on it.
        FOR NO KEY UPDATE: rows that merely reference the course (a certificate a learner's
        progress issues) do not wait for it, nor it for them."""
        statement = (
            select(models.Course)
            .where(self.in_tenant(models.Course), models.Course.id == course_id)
            .with_for_update(key_share=True)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def module(self, module_id: uuid.UUID) -> models.Module | None:
        return await self.session.get(models.Module, (self.tenant_id, module_id))

    async def module_position(self, course_id: uuid.UUID, position: int | None) -> int:
        scope = and_(self.in_tenant(MODULES), MODULES.c.course_id == course_id, live(MODULES))
        return await self._place(MODULES, scope, position)

    async def lesson_position(self, module_id: uuid.UUID, position: int | None) -> int:
        scope = and_(self.in_tenant(LESSONS), LESSONS.c.module_id == module_id, live(LESSONS))
        return await self._place(LESSONS, scope, position)

    async def recompute_enrolled_percents(self, course_id: uuid.UUID) -> None:
        """After the course's live lessons changed: every enrollment's percent, in one statement
        (completed live lessons over live lessons; archived ones count for nothing)."""
        total = (
            select(func.count())
            .select_from(LESSONS)
            .where(self.in_tenant(LESSONS), LESSONS.c.course_id == course_id, live(LESSONS))
            .scalar_subquery()
        )
        completed = (
            select(func.count())
            .select_from(PROGRESS.join(LESSONS, same_lesson()))
            .where(
                PROGRESS.c.tenant_id == ENROLLMENTS.c.tenant_id,
                PROGRESS.c.user_id == ENROLLMENTS.c.user_id,
                PROGRESS.c.course_id == ENROLLMENTS.c.course_id,
                PROGRESS.c.status == "completed",
                live(LESSONS),
            )
            .scalar_subquery()
        )
        percent = case((total == 0, 0), else_=func.round(cast(completed, Numeric) * 100 / total, 2))
        # The enrollments first, each waiting for a learner's progress write in flight: the
        # UPDATE below then counts from a snapshot that holds that progress.
        await self.session.execute(
            select(ENROLLMENTS.c.id)
            .where(self.in_tenant(ENROLLMENTS), ENROLLMENTS.c.course_id == course_id)
            .with_for_update()
        )
        await self.session.execute(
            update(ENROLLMENTS)
            .where(self.in_tenant(ENROLLMENTS), ENROLLMENTS.c.course_id == course_id)
            .values(progress_pct=percent, updated_at=func.now())
        )

    async def _place(self, target: Table, scope: ColumnElement[bool], position: int | None) -> int:
        """Appended after the last sibling, or at ``position`` with the later ones shifted."""
        if position is None:
            last = (await self.session.execute(select(func.max(target.c.position)).where(scope))).scalar()
            return 0 if last is None else int(last) + 1
        await self.session.execute(
            update(target).where(scope, target.c.position >= position).values(position=target.c.position + 1)
        )
        return position
