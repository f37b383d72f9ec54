"""The student dashboard as compiled reads write it (see kit/json_plan.py): the same rows, in
the same order, as dashboard/repository.py's statements, each list a subquery of one
statement. The viewer's own rows only (``%(viewer_id)s``)."""

from __future__ import annotations

from lms_graphql.assessments.json_repository import assessment_list
from lms_graphql.courses.json_repository import lesson_lock
from lms_graphql.dashboard.repository import RECENT_ACTIVITY_LIMIT
from lms_graphql.enrollments.repository import ACTIVE_STATUSES
from lms_graphql.kit import json_sql as js
from lms_graphql.kit.json_plan import FieldSql, Node, Row, Scope, column, optional, tenant_filter
from lms_graphql.models.tables import (
    ASSESSMENTS,
    CERTIFICATES,
    COURSES,
    ENROLLMENTS,
    EVENTS,
    LESSONS,
    MODULES,
    PROGRESS,
    SUBMISSIONS,
)

SEATED = "(" + ", ".join(js.literal(status) for status in ACTIVE_STATUSES) + ")"


def _my_enrollments(alias: str) -> str:
    return f"{tenant_filter(alias)} AND {alias}.user_id = %(viewer_id)s AND {alias}.status IN {SEATED}"


def _enrolled_courses(node: Node, row: Row, scope: Scope) -> str:
    enrollment, course = scope.alias("e"), scope.alias("c")
    sources = (
        f"FROM {ENROLLMENTS.name} {enrollment} JOIN {COURSES.name} {course}"
        f" ON {course}.tenant_id = {enrollment}.tenant_id AND {course}.id = {enrollment}.course_id"
        f" WHERE {_my_enrollments(enrollment)}"
    )
    element = scope.object("EnrolledCourseProgress", node, {"enrollment": enrollment, "course": course})
    return js.json_array(element, sources, [f"{enrollment}.enrolled_at DESC", f"{enrollment}.id"])


def _upcoming_assessments(node: Node, row: Row, scope: Scope) -> str:
    assessment, enrollment, passed = scope.alias("a"), scope.alias("e"), scope.alias("s")
    sources = (
        f"FROM {ASSESSMENTS.name} {assessment} JOIN {ENROLLMENTS.name} {enrollment}"
        f" ON {enrollment}.tenant_id = {assessment}.tenant_id AND {enrollment}.course_id = {assessment}.course_id"
        f" WHERE {tenant_filter(assessment)} AND {_my_enrollments(enrollment)}"
        f" AND NOT EXISTS (SELECT 1 FROM {SUBMISSIONS.name} {passed} WHERE {passed}.tenant_id = {assessment}.tenant_id"
        f" AND {passed}.assessment_id = {assessment}.id AND {passed}.user_id = %(viewer_id)s AND {passed}.passed)"
        f" AND ({assessment}.due_at IS NULL OR {assessment}.due_at > %(now)s)"
    )
    return assessment_list(scope, node, assessment, sources)


def _recent_activity(node: Node, row: Row, scope: Scope) -> str:
    event = scope.alias("ev")
    latest = (
        f"SELECT * FROM {EVENTS.name} {event} WHERE {tenant_filter(event)} AND {event}.user_id = %(viewer_id)s"
        f" ORDER BY {event}.occurred_at DESC, {event}.id LIMIT {RECENT_ACTIVITY_LIMIT}"
    )
    element = scope.object("ActivityEvent", node, {"event": event})
    return js.json_array(element, f"FROM ({latest}) {event}", [f"{event}.occurred_at DESC", f"{event}.id"])


def _overall_progress(node: Node, row: Row, scope: Scope) -> str:
    """StudentDashboard.overall_progress: the mean percent, 2 decimals rounded half up; 0 without."""
    alias = scope.alias("e")
    mean = js.decimal(f"coalesce(round(avg({alias}.progress_pct), 2), 0.00)")
    return js.scalar_subquery(mean, f"FROM {ENROLLMENTS.name} {alias} WHERE {_my_enrollments(alias)}")


def _my_certificates(alias: str) -> str:
    return f"FROM {CERTIFICATES.name} {alias} WHERE {tenant_filter(alias)} AND {alias}.user_id = %(viewer_id)s"


def _certificates(node: Node, row: Row, scope: Scope) -> str:
    alias = scope.alias("ct")
    element = scope.object("Certificate", node, {"certificate": alias})
    return js.json_array(element, _my_certificates(alias), [f"{alias}.issued_at DESC", f"{alias}.id"])


def _next_lesson(node: Node, row: Row, scope: Scope) -> str:
    """The first lesson of the course not completed, in module and lesson order."""
    course, lesson, module, done = row["course"], scope.alias("l"), scope.alias("m"), scope.alias("d")
    order = ", ".join(
        [f"{module}.{column}" for column in ("position", "created_at", "id")]
        + [f"{lesson}.{column}" for column in ("position", "created_at", "id")]
    )
    sources = (
        f"FROM {LESSONS.name} {lesson} JOIN {MODULES.name} {module}"
        f" ON {module}.tenant_id = {lesson}.tenant_id AND {module}.id = {lesson}.module_id"
        f" LEFT JOIN {PROGRESS.name} {done} ON {done}.tenant_id = {lesson}.tenant_id"
        f" AND {done}.lesson_id = {lesson}.id AND {done}.user_id = %(viewer_id)s"
        f" WHERE {tenant_filter(lesson)} AND {lesson}.course_id = {course}.id AND {lesson}.archived_at IS NULL"
        f" AND ({done}.status IS NULL OR {done}.status <> 'completed')"
        f" AND {lesson_lock(lesson, module)} IS NULL ORDER BY {order} LIMIT 1"
    )
    # An active or completed enrollment shows the course's content.
    element = scope.object("Lesson", node, {"lesson": lesson, "module": module, "content_visible": "true"})
    return js.nullable(js.scalar_subquery(element, sources))


FIELDS: dict[str, dict[str, FieldSql]] = {
    "StudentDashboard": {
        "enrolledCourses": _enrolled_courses,
        "upcomingAssessments": _upcoming_assessments,
        "recentActivity": _recent_activity,
        "overallProgress": _overall_progress,
        "certificatesEarned": lambda node, row, scope: js.scalar_subquery(
            "count(*)::text", _my_certificates(scope.alias("ct"))
        ),
        "certificates": _certificates,
    },
    "EnrolledCourseProgress": {
        "progressPercent": column("enrollment", js.decimal, "progress_pct"),
        "lastAccessedAt": column("enrollment", optional(js.timestamp), "last_accessed_at"),
        # An active or completed enrollment shows the course's content.
        "course": lambda node, row, scope: scope.object(
            "Course", node, {"course": row["course"], "content_visible": "true"}
        ),
        "nextLesson": _next_lesson,
    },
    "ActivityEvent": {
        "id": column("event", js.identifier, "id"),
        "eventType": column("event", js.string, "event_type"),
        "occurredAt": column("event", js.timestamp, "occurred_at"),
        "courseId": column("event", optional(js.identifier), "course_id"),
        "payload": column("event", js.jsonb, "payload"),
    },
}


def my_dashboard(node: Node, facts: object, scope: Scope) -> str:
    """Query.myDashboard: the viewer's own."""
    return scope.object("StudentDashboard", node, {})
