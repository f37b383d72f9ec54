"""SQL for editing a course's content: its live modules and lessons in order, and which
lessons learners have progress on. Callers hold the course's row lock (CourseRepository.lock),
so positions change one edit at a time."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from lms_graphql import models
from lms_graphql.kit.repository import TenantScopedRepository
from lms_graphql.models.tables import LESSONS, PROGRESS, same_lesson


class ContentRepository(TenantScopedRepository):
    async def module(self, module_id: uuid.UUID) -> models.Module | None:
        """A live module (an archived one is gone for every purpose but its history)."""
        found = await self.session.get(models.Module, (self.tenant_id, module_id))
        return found if found is not None and found.archived_at is None else None

    async def lesson(self, lesson_id: uuid.UUID) -> models.Lesson | None:
        found = await self.session.get(models.Lesson, (self.tenant_id, lesson_id))
        return found if found is not None and found.archived_at is None else None

    async def modules(self, course_id: uuid.UUID) -> list[models.Module]:
        """The course's live modules, in order."""
        statement = (
            select(models.Module)
            .where(
                self.in_tenant(models.Module), models.Module.course_id == course_id, models.Module.archived_at.is_(None)
            )
            .order_by(models.Module.position, models.Module.created_at, models.Module.id)
        )
        return list((await self.session.execute(statement)).scalars())

    async def lessons(self, module_id: uuid.UUID) -> list[models.Lesson]:
        """The module's live lessons, in order."""
        statement = (
            select(models.Lesson)
            .where(
                self.in_tenant(models.Lesson), models.Lesson.module_id == module_id, models.Lesson.archived_at.is_(None)
            )
            .order_by(models.Lesson.position, models.Lesson.created_at, models.Lesson.id)
        )
        return list((await self.session.execute(statement)).scalars())

    async def with_progress_in(self, module_id: uuid.UUID) -> set[uuid.UUID]:
        """The module's lessons, archived ones included, that some learner has progress on."""
        statement = (
            select(PROGRESS.c.lesson_id)
            .select_from(PROGRESS.join(LESSONS, same_lesson()))
            .where(self.in_tenant(PROGRESS), LESSONS.c.module_id == module_id)
            .distinct()
        )
        return set((await self.session.execute(statement)).scalars())

    async def with_progress(self, lesson_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Those of ``lesson_ids`` some learner has progress on."""
        if not lesson_ids:
            return set()
        statement = (
            select(PROGRESS.c.lesson_id)
            .where(self.in_tenant(PROGRESS), PROGRESS.c.lesson_id.in_(lesson_ids))
            .distinct()
        )
        return set((await self.session.execute(statement)).scalars())

    async def remove(self, item: models.Module | models.Lesson, *, archive_at: datetime | None) -> None:
        """Archive ``item`` (kept for its history) or, ``archive_at`` None, delete it."""
        if archive_at is None:
            await self.session.delete(item)
        else:
            item.archived_at = archive_at
        await self.session.flush()

    async def renumber(self, items: Sequence[models.Module | models.Lesson]) -> None:
        """Positions 0, 1, 2... in the order given."""
        for position, item in enumerate(items):
            if item.position != position:
                item.position = position
        await self.session.flush()
