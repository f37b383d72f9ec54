"""Course prerequisites: set by the course's editors, enforced when a learner enrolls."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql import models
from lms_graphql.auth.viewer import Viewer
from lms_graphql.courses import access
from lms_graphql.courses.repository import CourseRepository
from lms_graphql.errors import ErrorCode, LmsError, bad_input, not_found
from lms_graphql.paths.repository import PathRepository

MAX_PREREQUISITES = 20


async def set_prerequisites(
    session: AsyncSession, tenant_id: uuid.UUID, viewer: Viewer, course_id: uuid.UUID, required: Sequence[uuid.UUID]
) -> models.Course:
    """The courses a learner must complete before enrolling in ``course_id`` (replacing those
    set before): other published (or archived) courses of the tenant, without a cycle."""
    courses = CourseRepository(session, tenant_id)
    course = await courses.lock(course_id)
    if course is None or not access.can_see(viewer, course):
        raise not_found("course not found")
    access.require_edit(viewer, course)
    wanted = list(dict.fromkeys(required))
    if len(wanted) > MAX_PREREQUISITES:
        raise bad_input(f"a course requires at most {MAX_PREREQUISITES} others")
    found = {row.id: row for row in await courses.by_ids(wanted)}
    for other in wanted:
        row = found.get(other)
        if row is None or not access.can_see(viewer, row):
            raise not_found(f"required course {other} not found")
        if row.status == "draft":
            raise bad_input(f"required course {row.title!r} is a draft: publish it first")
    paths = PathRepository(session, tenant_id)
    await paths.serialise_changes()
    if await paths.leads_to(wanted, course.id):
        raise bad_input("these prerequisites would make the course require itself")
    await paths.replace(course.id, wanted)
    return course


async def require_open(session: AsyncSession, tenant_id: uuid.UUID, course_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """LOCKED, naming what to complete first, while ``user_id`` has not completed the course's
    prerequisites."""
    reason = (await PathRepository(session, tenant_id).locks([course_id], user_id)).get(course_id)
    if reason is not None:
        raise LmsError(ErrorCode.LOCKED, f"this course is locked: {reason}")
