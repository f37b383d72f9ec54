"""Who may do what to which object. Every course-scoped right follows one pattern: on any
course, or on the courses one teaches (never as a visiting platform operator). Resolvers,
services and live feeds ask here rather than deciding from a role themselves."""

from __future__ import annotations

from lms_graphql.auth.permissions import Permission
from lms_graphql.auth.viewer import Viewer


def may_for_course(viewer: Viewer, instructor_id: object, own: Permission, any_course: Permission) -> bool:
    if viewer.can(any_course):
        return True
    return viewer.can(own) and instructor_id == viewer.id and not viewer.cross_tenant


def may_edit_course(viewer: Viewer, instructor_id: object) -> bool:
    return may_for_course(viewer, instructor_id, Permission.COURSE_EDIT_OWN, Permission.COURSE_EDIT_ANY)


def may_grade(viewer: Viewer, instructor_id: object) -> bool:
    return may_for_course(
        viewer, instructor_id, Permission.SUBMISSION_GRADE_OWN_COURSE, Permission.SUBMISSION_GRADE_ANY
    )


def may_view_students(viewer: Viewer, instructor_id: object) -> bool:
    return may_for_course(viewer, instructor_id, Permission.STUDENTS_READ_OWN_COURSE, Permission.STUDENTS_READ_ANY)


def may_read_analytics(viewer: Viewer, instructor_id: object) -> bool:
    return may_for_course(viewer, instructor_id, Permission.ANALYTICS_READ_OWN_COURSE, Permission.ANALYTICS_READ_ANY)


def may_watch_progress(viewer: Viewer, instructor_id: object) -> bool:
    """Live progress of a course's students: its instructor, or whoever may watch any course."""
    return may_for_course(viewer, instructor_id, Permission.PROGRESS_WATCH_OWN_COURSE, Permission.PROGRESS_WATCH_ANY)


def may_author_assessments(viewer: Viewer) -> bool:
    """On some course: which one is checked against the course itself."""
    return viewer.can(Permission.ASSESSMENT_EDIT_OWN) or viewer.can(Permission.ASSESSMENT_EDIT_ANY)


def may_grade_somewhere(viewer: Viewer) -> bool:
    return viewer.can(Permission.SUBMISSION_GRADE_OWN_COURSE) or viewer.can(Permission.SUBMISSION_GRADE_ANY)


def may_manage_tenants(viewer: Viewer) -> bool:
    return viewer.can(Permission.TENANT_MANAGE)
