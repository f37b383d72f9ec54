"""The seed's four roles as one permission matrix. Roles are cumulative."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    COURSE_READ_PUBLISHED = "course:read_published"
    COURSE_ENROLL = "course:enroll"
    PROGRESS_TRACK_OWN = "progress:track_own"
    SUBMISSION_SUBMIT = "submission:submit"
    GRADE_READ_OWN = "grade:read_own"
    CERTIFICATE_READ_OWN = "certificate:read_own"
    NOTIFICATION_READ_OWN = "notification:read_own"

    COURSE_CREATE = "course:create"
    COURSE_EDIT_OWN = "course:edit_own"
    ASSESSMENT_EDIT_OWN = "assessment:edit_own"
    SUBMISSION_GRADE_OWN_COURSE = "submission:grade_own_course"
    STUDENTS_READ_OWN_COURSE = "students:read_own_course"
    ANALYTICS_READ_OWN_COURSE = "analytics:read_own_course"
    PROGRESS_WATCH_OWN_COURSE = "progress:watch_own_course"

    COURSE_EDIT_ANY = "course:edit_any"
    ASSESSMENT_EDIT_ANY = "assessment:edit_any"
    SUBMISSION_GRADE_ANY = "submission:grade_any"
    STUDENTS_READ_ANY = "students:read_any"
    ANALYTICS_READ_ANY = "analytics:read_any"
    PROGRESS_WATCH_ANY = "progress:watch_any"
    USER_MANAGE = "user:manage"
    TENANT_OVERVIEW = "tenant:overview"
    TENANT_CONFIGURE = "tenant:configure"

    TENANT_MANAGE = "tenant:manage"
    TENANT_OPERATE_ANY = "tenant:operate_any"


_STUDENT = frozenset(
    {
        Permission.COURSE_READ_PUBLISHED,
        Permission.COURSE_ENROLL,
        Permission.PROGRESS_TRACK_OWN,
        Permission.SUBMISSION_SUBMIT,
        Permission.GRADE_READ_OWN,
        Permission.CERTIFICATE_READ_OWN,
        Permission.NOTIFICATION_READ_OWN,
    }
)
_INSTRUCTOR = _STUDENT | {
    Permission.COURSE_CREATE,
    Permission.COURSE_EDIT_OWN,
    Permission.ASSESSMENT_EDIT_OWN,
    Permission.SUBMISSION_GRADE_OWN_COURSE,
    Permission.STUDENTS_READ_OWN_COURSE,
    Permission.ANALYTICS_READ_OWN_COURSE,
    Permission.PROGRESS_WATCH_OWN_COURSE,
}
_ADMIN = _INSTRUCTOR | {
    Permission.COURSE_EDIT_ANY,
    Permission.ASSESSMENT_EDIT_ANY,
    Permission.SUBMISSION_GRADE_ANY,
    Permission.STUDENTS_READ_ANY,
    Permission.ANALYTICS_READ_ANY,
    Permission.PROGRESS_WATCH_ANY,
    Permission.USER_MANAGE,
    Permission.TENANT_OVERVIEW,
    Permission.TENANT_CONFIGURE,
}
# The platform operator: everything an admin may do, in any tenant it addresses explicitly,
# plus registering and deactivating tenants.
_SUPER_ADMIN = _ADMIN | {Permission.TENANT_MANAGE, Permission.TENANT_OPERATE_ANY}

ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "student": _STUDENT,
    "instructor": _INSTRUCTOR,
    "admin": _ADMIN,
    "super_admin": _SUPER_ADMIN,
}


def permissions_of(role: str) -> frozenset[Permission]:
    return ROLE_PERMISSIONS.get(role, frozenset())
