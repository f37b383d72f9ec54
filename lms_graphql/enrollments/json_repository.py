"""Enrollments and progress as compiled reads write them (see kit/json_plan.py): the viewer's
lesson progress, and a course's seat counts (EnrollmentRepository.stats)."""

from __future__ import annotations

from lms_graphql.enrollments.repository import ACTIVE_STATUSES
from lms_graphql.kit import json_sql as js
from lms_graphql.kit.json_plan import FieldSql, Node, Row, Scope, column, linked, optional, tenant_filter
from lms_graphql.models.tables import COURSES, ENROLLMENTS, LESSONS, PROGRESS, USERS

SEATED = "(" + ", ".join(js.literal(status) for status in ACTIVE_STATUSES) + ")"


def _my_progress(node: Node, row: Row, scope: Scope) -> str:
    alias = scope.alias("lp")
    sources = (
        f"FROM {PROGRESS.name} {alias} WHERE {tenant_filter(alias)} AND {alias}.user_id = %(viewer_id)s"
        f" AND {alias}.lesson_id = {row['lesson']}.id"
    )
    return js.nullable(js.scalar_subquery(scope.object("LessonProgress", node, {"progress": alias}), sources))


def _seats(course: str, alias: str) -> str:
    return (
        f"FROM {ENROLLMENTS.name} {alias} WHERE {tenant_filter(alias)} AND {alias}.course_id = {course}.id"
        f" AND {alias}.status IN {SEATED}"
    )


def _enrollment_count(node: Node, row: Row, scope: Scope) -> str:
    return js.scalar_subquery("count(*)::text", _seats(row["course"], scope.alias("s")))


def _completion_rate(node: Node, row: Row, scope: Scope) -> str:
    """Course.completion_rate: completed / seated, 4 decimals rounded half up; null without seats."""
    alias = scope.alias("s")
    completed = f"count(*) FILTER (WHERE {alias}.status = 'completed')"
    rate = js.decimal(f"round({completed}::numeric / count(*), 4)")
    return js.scalar_subquery(f"CASE WHEN count(*) = 0 THEN {js.NULL} ELSE {rate} END", _seats(row["course"], alias))


FIELDS: dict[str, dict[str, FieldSql]] = {
    "LessonProgress": {
        "id": column("progress", js.identifier, "id"),
        "status": column("progress", js.enum, "status"),
        "progressPct": column("progress", js.integer, "progress_pct"),
        "startedAt": column("progress", optional(js.timestamp), "started_at"),
        "completedAt": column("progress", optional(js.timestamp), "completed_at"),
        "lesson": linked(LESSONS.name, "Lesson", "lesson", "progress", "lesson_id"),
        "user": linked(USERS.name, "User", "user", "progress", "user_id"),
    },
    "Enrollment": {
        "id": column("enrollment", js.identifier, "id"),
        "status": column("enrollment", js.enum, "status"),
        "enrolledAt": column("enrollment", js.timestamp, "enrolled_at"),
        "completedAt": column("enrollment", optional(js.timestamp), "completed_at"),
        "progressPercent": column("enrollment", js.decimal, "progress_pct"),
        "droppedAt": column("enrollment", optional(js.timestamp), "dropped_at"),
        "user": linked(USERS.name, "User", "user", "enrollment", "user_id"),
        "course": linked(COURSES.name, "Course", "course", "enrollment", "course_id"),
    },
    "Lesson": {"myProgress": _my_progress},
    "Course": {"enrollmentCount": _enrollment_count, "completionRate": _completion_rate},
}


def my_enrollments(node: Node, facts: object, scope: Scope) -> str:
    """Query.myEnrollments: the viewer's own, any status, newest first (EnrollmentRepository.of_user)."""
    alias = scope.alias("e")
    sources = f"FROM {ENROLLMENTS.name} {alias} WHERE {tenant_filter(alias)} AND {alias}.user_id = %(viewer_id)s"
    element = scope.object("Enrollment", node, {"enrollment": alias})
    return js.json_array(element, sources, [f"{alias}.enrolled_at DESC", f"{alias}.id"])
