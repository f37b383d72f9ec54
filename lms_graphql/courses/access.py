"""Which courses a viewer sees and may change (the rights themselves: auth/policies.py).
Another tenant's course never gets here: RLS hides it."""

from __future__ import annotations

import uuid
from typing import Any

from lms_graphql.auth import policies
from lms_graphql.auth.permissions import Permission
from lms_graphql.auth.viewer import Viewer
from lms_graphql.courses.repository import CourseFilter
from lms_graphql.errors import ErrorCode, LmsError
from lms_graphql.kit.json_plan import ViewerRights

NOBODY = uuid.UUID(int=0)  # no user has this id
MAX_SEARCH = 200  # characters of a catalogue search


def listing_filter(viewer: Viewer, *, status: str | None = None, search: str | None = None) -> CourseFilter:
    """Students list published courses, instructors also their own, admins all."""
    if viewer.can(Permission.COURSE_EDIT_ANY):
        return CourseFilter(see_all=True, status=status, search=search)
    own = viewer.id if viewer.can(Permission.COURSE_EDIT_OWN) and not viewer.cross_tenant else None
    return CourseFilter(see_all=False, own_instructor_id=own, status=status, search=search)


def can_see(viewer: Viewer, course: Any, *, enrolled: bool = False) -> bool:
    """Published courses, one's own, and (archived ones) one is enrolled in."""
    return course.status == "published" or enrolled or policies.may_edit_course(viewer, course.instructor_id)


def require_edit(viewer: Viewer, course: Any) -> None:
    if not policies.may_edit_course(viewer, course.instructor_id):
        raise LmsError(ErrorCode.FORBIDDEN, "only the course's instructor or an admin may change it")


def require_member(viewer: Viewer, what: str) -> None:
    """Learning actions need a user of this tenant, not a visiting platform operator."""
    if viewer.cross_tenant:
        raise LmsError(ErrorCode.FORBIDDEN, f"platform operators cannot {what} in another tenant")


def actor_id(viewer: Viewer) -> uuid.UUID | None:
    """The user an event names as its actor: none for a visiting operator (not a user here)."""
    return None if viewer.cross_tenant else viewer.id


def course_rights(viewer: Viewer) -> ViewerRights:
    """The viewer's rights over courses as compiled reads write them into SQL. may_edit_course
    depends on the course only through whether the viewer teaches it, so asking it of a
    course taught by nobody and of one the viewer teaches says all there is."""
    return ViewerRights(
        edit_any_course=policies.may_edit_course(viewer, NOBODY),
        edit_own_courses=policies.may_edit_course(viewer, viewer.id),
    )
