"""Course lifecycle and content: who may do what, what it changes, which events it emits."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql import models
from lms_graphql.auth.permissions import Permission
from lms_graphql.auth.viewer import Viewer
from lms_graphql.courses import access, validation
from lms_graphql.courses.repository import CourseFilter, CourseRepository
from lms_graphql.errors import ErrorCode, LmsError, bad_input, not_found
from lms_graphql.events.publish import Notice, record_event
from lms_graphql.kit.pagination import Keyset
from lms_graphql.kit.repository import insert_or_conflict
from lms_graphql.tenancy.tenant import TenantConfig
from lms_graphql.users.repository import UserRepository

TEACHING_ROLES = ("instructor", "admin", "super_admin")

# A step of a course's lifecycle: publish_course or archive_course.
CourseTransition = Callable[[AsyncSession, TenantConfig, Viewer, uuid.UUID], Awaitable[models.Course]]
COURSE_NOT_FOUND = "course not found"


@dataclass(frozen=True)
class CourseChanges:
    title: str | None = None
    description: str | None = None
    description_set: bool = False
    max_enrollment: int | None = None
    max_enrollment_set: bool = False


async def _editable_course(repo: CourseRepository, viewer: Viewer, course_id: uuid.UUID) -> models.Course:
    course = await repo.lock(course_id)
    if course is None or not access.can_see(viewer, course):
        raise not_found(COURSE_NOT_FOUND)
    access.require_edit(viewer, course)
    return course


async def _instructor_for(
    session: AsyncSession, tenant: TenantConfig, viewer: Viewer, instructor_id: uuid.UUID | None
) -> uuid.UUID:
    if instructor_id is None or instructor_id == viewer.id:
        if viewer.cross_tenant:
            raise bad_input("platform operators must name the course's instructorId")
        return viewer.id
    if not viewer.can(Permission.COURSE_EDIT_ANY):
        raise LmsError(ErrorCode.FORBIDDEN, "only admins may create a course for another instructor")
    user = await UserRepository(session, tenant.id).get(instructor_id)
    if user is None:
        raise not_found("instructor not found")
    if not user.is_active or user.role not in TEACHING_ROLES:
        raise bad_input("instructorId must be an active instructor or admin of this tenant")
    return user.id


async def create_course(
    session: AsyncSession,
    tenant: TenantConfig,
    viewer: Viewer,
    *,
    title: str,
    slug: str | None,
    description: str | None,
    max_enrollment: int | None,
    instructor_id: uuid.UUID | None,
) -> models.Course:
    clean_title = validation.title(title)
    clean_slug = validation.slug(slug) if slug is not None else validation.slug_from_title(clean_title)
    course = models.Course(
        id=uuid.uuid4(),
        tenant_id=tenant.id,
        instructor_id=await _instructor_for(session, tenant, viewer, instructor_id),
        title=clean_title,
        slug=clean_slug,
        description=validation.description(description),
        max_enrollment=validation.max_enrollment(max_enrollment),
        status="draft",
    )
    await insert_or_conflict(
        session,
        course,
        {"uq_courses_tenant_id_slug": f"a course with slug {clean_slug!r} already exists; pass another"},
    )
    return course


async def update_course(
    session: AsyncSession, tenant: TenantConfig, viewer: Viewer, course_id: uuid.UUID, changes: CourseChanges
) -> models.Course:
    course = await _editable_course(CourseRepository(session, tenant.id), viewer, course_id)
    if changes.title is not None:
        course.title = validation.title(changes.title)
    if changes.description_set:
        course.description = validation.description(changes.description)
    if changes.max_enrollment_set:
        course.max_enrollment = validation.max_enrollment(changes.max_enrollment)
    await session.flush()
    return course


async def publish_course(
    session: AsyncSession, tenant: TenantConfig, viewer: Viewer, course_id: uuid.UUID
) -> models.Course:
    repo = CourseRepository(session, tenant.id)
    course = await _editable_course(repo, viewer, course_id)
    if course.status == "published":
        return course  # publishing twice changes nothing and emits nothing
    module_count, lesson_count = await repo.content_counts(course.id)
    if lesson_count == 0:
        raise bad_input("a course needs at least one lesson before it is published")
    course.status = "published"
    course.published_at = datetime.now(UTC)
    await session.flush()
    await record_event(
        session,
        tenant_id=tenant.id,
        event_type="course.published",
        user_id=access.actor_id(viewer),
        course_id=course.id,
        payload={
            "courseId": str(course.id),
            "courseName": course.title,
            "instructorId": str(course.instructor_id),
            "moduleCount": module_count,
            "lessonCount": lesson_count,
        },
        # Every student of the tenant hears of a new course: that is how they find it.
        notice=Notice(title=f"New course: {course.title}", all_students=True),
    )
    return course


async def archive_course(
    session: AsyncSession, tenant: TenantConfig, viewer: Viewer, course_id: uuid.UUID
) -> models.Course:
    course = await _editable_course(CourseRepository(session, tenant.id), viewer, course_id)
    if course.status != "archived":
        course.status = "archived"
        course.published_at = course.published_at or datetime.now(UTC)
        await session.flush()
    return course


async def create_module(
    session: AsyncSession,
    tenant: TenantConfig,
    viewer: Viewer,
    *,
    course_id: uuid.UUID,
    title: str,
    position: int | None,
) -> models.Module:
    repo = CourseRepository(session, tenant.id)
    course = await _editable_course(repo, viewer, course_id)
    clean_title = validation.title(title)
    module = models.Module(
        id=uuid.uuid4(),
        tenant_id=tenant.id,
        course_id=course.id,
        title=clean_title,
        position=await repo.module_position(course.id, validation.position(position)),
    )
    session.add(module)
    await session.flush()
    return module


async def create_lesson(
    session: AsyncSession,
    tenant: TenantConfig,
    viewer: Viewer,
    *,
    module_id: uuid.UUID,
    title: str,
    content_type: str,
    content_ref: str | None,
    duration_min: int | None,
    position: int | None,
) -> models.Lesson:
    repo = CourseRepository(session, tenant.id)
    module = await repo.module(module_id)
    if module is None:
        raise not_found("module not found")
    course = await repo.lock(module.course_id)
    if course is None or not access.can_see(viewer, course):
        raise not_found("module not found")
    access.require_edit(viewer, course)
    await session.refresh(module)  # as it is now that the course is locked
    if module.archived_at is not None:
        raise not_found("module not found")
    lesson = models.Lesson(
        id=uuid.uuid4(),
        tenant_id=tenant.id,
        course_id=course.id,
        module_id=module.id,
        title=validation.title(title),
        content_type=content_type,
        content_ref=validation.content_ref(content_ref),
        duration_min=validation.duration(duration_min),
        position=await repo.lesson_position(module.id, validation.position(position)),
    )
    session.add(lesson)
    await session.flush()
    # A new lesson changes every enrolled student's course percent.
    await repo.recompute_enrolled_percents(course.id)
    return lesson


async def page(
    session: AsyncSession, tenant_id: uuid.UUID, course_filter: CourseFilter, after: Keyset | None, limit: int
) -> list[Any]:
    """Courses the filter (access.listing_filter) lets the viewer list, in catalogue order."""
    return await CourseRepository(session, tenant_id).page(course_filter, after, limit)


async def count(session: AsyncSession, tenant_id: uuid.UUID, course_filter: CourseFilter) -> int:
    return await CourseRepository(session, tenant_id).count(course_filter)


async def visible(session: AsyncSession, tenant_id: uuid.UUID, viewer: Viewer, course_id: uuid.UUID) -> Any:
    """The course, if the viewer may see it: NOT_FOUND alike for absent, foreign and hidden."""
    rows = await CourseRepository(session, tenant_id).by_ids([course_id])
    if not rows or not access.can_see(viewer, rows[0]):
        raise not_found("course not found")
    return rows[0]


async def find(session: AsyncSession, tenant_id: uuid.UUID, course_id: uuid.UUID) -> Any:
    """The course's row, or None; who may see it is the caller's to decide (access.can_see)."""
    rows = await CourseRepository(session, tenant_id).by_ids([course_id])
    return rows[0] if rows else None


async def find_module(session: AsyncSession, tenant_id: uuid.UUID, module_id: uuid.UUID) -> Any:
    """The module's row unless archived, or None; whether its course is visible is the caller's."""
    rows = await CourseRepository(session, tenant_id).modules_by_ids([module_id])
    return rows[0] if rows and rows[0].archived_at is None else None
