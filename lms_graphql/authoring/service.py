"""Editing a course's content after it was created: renaming, moving and removing modules and
lessons. Every edit holds the course's row lock, so positions stay dense (0, 1, 2...) and
unique under concurrent edits. A lesson learners have progress on is archived, not deleted:
its progress stays as history, and it stops being shown and counted; the percent of every
enrolled learner moves in the same transaction (a completed enrollment stays completed)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql import models
from lms_graphql.auth.viewer import Viewer
from lms_graphql.authoring.repository import ContentRepository
from lms_graphql.courses import access, validation
from lms_graphql.courses.repository import CourseRepository
from lms_graphql.errors import bad_input, not_found
from lms_graphql.models.course import CONTENT_TYPES
from lms_graphql.storage.service import forget_lessons
from lms_graphql.tenancy.tenant import TenantConfig

MODULE_NOT_FOUND, LESSON_NOT_FOUND = "module not found", "lesson not found"


@dataclass(frozen=True)
class ModuleChanges:
    title: str | None = None
    unlock_at: datetime | None = None
    unlock_at_set: bool = False
    requires_previous: bool | None = None


@dataclass(frozen=True)
class LessonChanges:
    title: str | None = None
    content_type: str | None = None
    content_ref: str | None = None
    content_ref_set: bool = False
    duration_min: int | None = None
    duration_set: bool = False
    requires_previous: bool | None = None


@dataclass(frozen=True)
class Removal:
    id: uuid.UUID
    archived: bool  # True: kept (without a place in the course) for its learners' progress


async def _editable(
    session: AsyncSession, tenant: TenantConfig, viewer: Viewer, course_id: uuid.UUID, missing: str
) -> models.Course:
    """The course, locked, if the viewer may edit it; ``missing`` (NOT_FOUND) when it may not
    even see it."""
    course = await CourseRepository(session, tenant.id).lock(course_id)
    if course is None or not access.can_see(viewer, course):
        raise not_found(missing)
    access.require_edit(viewer, course)
    return course


async def _module(session: AsyncSession, tenant: TenantConfig, viewer: Viewer, module_id: uuid.UUID) -> models.Module:
    content = ContentRepository(session, tenant.id)
    module = await content.module(module_id)
    if module is None:
        raise not_found(MODULE_NOT_FOUND)
    await _editable(session, tenant, viewer, module.course_id, MODULE_NOT_FOUND)
    await session.refresh(module)  # as it is now that the course is locked
    if module.archived_at is not None:
        raise not_found(MODULE_NOT_FOUND)
    return module


async def _lesson(session: AsyncSession, tenant: TenantConfig, viewer: Viewer, lesson_id: uuid.UUID) -> models.Lesson:
    content = ContentRepository(session, tenant.id)
    lesson = await content.lesson(lesson_id)
    if lesson is None:
        raise not_found(LESSON_NOT_FOUND)
    await _editable(session, tenant, viewer, lesson.course_id, LESSON_NOT_FOUND)
    # Locked after its course (every edit locks in that order). A learner's progress write
    # takes a key-share lock on the lesson: it waits for this edit, then finds the lesson gone
    # or archived (NOT_FOUND) instead of writing progress that a delete would cascade away.
    await session.refresh(lesson, with_for_update=True)
    if lesson.archived_at is not None:
        raise not_found(LESSON_NOT_FOUND)
    return lesson


def _placed(items: list[models.Module] | list[models.Lesson], item: object, position: int) -> list[object]:
    """``items`` with ``item`` at ``position`` (the end when beyond it)."""
    if position < 0:
        raise bad_input(f"position must be 0 or more, got {position}")
    rest: list[object] = [other for other in items if other is not item]
    rest.insert(min(position, len(rest)), item)
    return rest


async def update_module(
    session: AsyncSession, tenant: TenantConfig, viewer: Viewer, module_id: uuid.UUID, changes: ModuleChanges
) -> models.Module:
    module = await _module(session, tenant, viewer, module_id)
    if changes.title is not None:
        module.title = validation.title(changes.title)
    if changes.unlock_at_set:
        module.unlock_at = changes.unlock_at
    if changes.requires_previous is not None:
        module.requires_previous = changes.requires_previous
    await session.flush()
    return module


async def update_lesson(
    session: AsyncSession, tenant: TenantConfig, viewer: Viewer, lesson_id: uuid.UUID, changes: LessonChanges
) -> models.Lesson:
    lesson = await _lesson(session, tenant, viewer, lesson_id)
    if changes.title is not None:
        lesson.title = validation.title(changes.title)
    if changes.content_type is not None:
        if changes.content_type not in CONTENT_TYPES:
            raise bad_input(f"contentType must be one of {', '.join(CONTENT_TYPES)}")
        lesson.content_type = changes.content_type
    if changes.content_ref_set:
        lesson.content_ref = validation.content_ref(changes.content_ref)
    if changes.duration_set:
        lesson.duration_min = validation.duration(changes.duration_min)
    if changes.requires_previous is not None:
        lesson.requires_previous = changes.requires_previous
    await session.flush()
    return lesson


async def move_module(
    session: AsyncSession, tenant: TenantConfig, viewer: Viewer, module_id: uuid.UUID, position: int
) -> models.Module:
    module = await _module(session, tenant, viewer, module_id)
    content = ContentRepository(session, tenant.id)
    modules = await content.modules(module.course_id)
    await content.renumber(_placed(modules, module, position))  # type: ignore[arg-type]
    return module


async def move_lesson(
    session: AsyncSession,
    tenant: TenantConfig,
    viewer: Viewer,
    lesson_id: uuid.UUID,
    position: int,
    module_id: uuid.UUID | None,
) -> models.Lesson:
    """To ``position`` in its module, or in ``module_id`` (another module of the same course)."""
    lesson = await _lesson(session, tenant, viewer, lesson_id)
    content = ContentRepository(session, tenant.id)
    target = lesson.module_id
    if module_id is not None and module_id != lesson.module_id:
        destination = await content.module(module_id)
        if destination is None or destination.course_id != lesson.course_id:
            raise not_found("module not found in the lesson's course")
        target = destination.id
    if target != lesson.module_id:
        source = lesson.module_id
        await content.renumber([other for other in await content.lessons(source) if other is not lesson])
        lesson.module_id = target
    siblings = [other for other in await content.lessons(target) if other is not lesson]
    await content.renumber(_placed(siblings, lesson, position))  # type: ignore[arg-type]
    return lesson


async def delete_lesson(session: AsyncSession, tenant: TenantConfig, viewer: Viewer, lesson_id: uuid.UUID) -> Removal:
    lesson = await _lesson(session, tenant, viewer, lesson_id)
    content = ContentRepository(session, tenant.id)
    kept = bool(await content.with_progress([lesson.id]))
    await content.remove(lesson, archive_at=datetime.now(UTC) if kept else None)
    await forget_lessons(session, tenant.id, lesson.course_id, [lesson.id])
    await content.renumber(await content.lessons(lesson.module_id))
    await CourseRepository(session, tenant.id).recompute_enrolled_percents(lesson.course_id)
    return Removal(lesson_id, kept)


async def delete_module(session: AsyncSession, tenant: TenantConfig, viewer: Viewer, module_id: uuid.UUID) -> Removal:
    """The module and its lessons; archived, with the lessons learners have progress on, when
    there are any (lessons archived before count: deleting the module would take their
    progress with them)."""
    module = await _module(session, tenant, viewer, module_id)
    content = ContentRepository(session, tenant.id)
    lessons = await content.lessons(module.id)
    with_progress = await content.with_progress_in(module.id)
    now = datetime.now(UTC)
    if with_progress:
        for lesson in lessons:
            await content.remove(lesson, archive_at=now if lesson.id in with_progress else None)
    await content.remove(module, archive_at=now if with_progress else None)
    await forget_lessons(session, tenant.id, module.course_id, [lesson.id for lesson in lessons])
    await content.renumber(await content.modules(module.course_id))
    await CourseRepository(session, tenant.id).recompute_enrolled_percents(module.course_id)
    return Removal(module_id, bool(with_progress))
