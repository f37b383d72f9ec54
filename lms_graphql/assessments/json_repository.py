"""Assessments, submissions and certificates as compiled reads write them (see
kit/json_plan.py). Answer keys are removed from an assessment's questions unless the viewer
may edit its course, as Assessment.questions does; which keys those are comes in the
statement's parameters (``answer_keys``, from assessments/questions.py)."""

from __future__ import annotations

from lms_graphql.kit import json_sql as js
from lms_graphql.kit.json_plan import FieldSql, Node, Row, Scope, column, linked, optional, tenant_filter
from lms_graphql.models.tables import ASSESSMENTS, COURSES, SUBMISSIONS, USERS

ASSESSMENT_ORDER = ("due_at ASC NULLS LAST", "created_at", "id")


def assessment_list(scope: Scope, node: Node, alias: str, sources: str, may_edit: str | None = None) -> str:
    """Assessments of ``sources`` (rows named ``alias``) in the catalogue's order."""
    row = {"assessment": alias} if may_edit is None else {"assessment": alias, "may_edit": may_edit}
    order = [f"{alias}.{column}" for column in ASSESSMENT_ORDER]
    return js.json_array(scope.object("Assessment", node, row), sources, order)


def _course_assessments(node: Node, row: Row, scope: Scope) -> str:
    course, alias = row["course"], scope.alias("a")
    sources = f"FROM {ASSESSMENTS.name} {alias} WHERE {tenant_filter(alias)} AND {alias}.course_id = {course}.id"
    return assessment_list(scope, node, alias, sources, scope.rights.may_edit_course(f"{course}.instructor_id"))


def _questions(node: Node, row: Row, scope: Scope) -> str:
    """without_answer_keys: a list of the objects among the questions, less their keys."""
    alias = row["assessment"]
    may_edit = row.get("may_edit")
    if may_edit is None:
        instructor = (
            f"(SELECT qc.instructor_id FROM {COURSES.name} qc"
            f" WHERE {tenant_filter('qc')} AND qc.id = {alias}.course_id)"
        )
        may_edit = scope.rights.may_edit_course(instructor)
    public = (
        f"(SELECT coalesce(jsonb_agg(q.value - %(answer_keys)s::text[] ORDER BY q.n), '[]'::jsonb)"
        f" FROM jsonb_array_elements(CASE WHEN jsonb_typeof({alias}.questions) = 'array'"
        f" THEN {alias}.questions ELSE '[]'::jsonb END) WITH ORDINALITY AS q(value, n)"
        " WHERE jsonb_typeof(q.value) = 'object')"
    )
    return f"(CASE WHEN {may_edit} THEN {js.jsonb(f'{alias}.questions')} ELSE {js.jsonb(public)} END)"


def _my_submissions(node: Node, row: Row, scope: Scope) -> str:
    alias = scope.alias("s")
    sources = (
        f"FROM {SUBMISSIONS.name} {alias} WHERE {tenant_filter(alias)} AND {alias}.user_id = %(viewer_id)s"
        f" AND {alias}.assessment_id = {row['assessment']}.id AND {alias}.status <> 'in_progress'"
    )
    order = [f"{alias}.attempt_number DESC", f"{alias}.id"]
    return js.json_array(scope.object("Submission", node, {"submission": alias}), sources, order)


FIELDS: dict[str, dict[str, FieldSql]] = {
    "Assessment": {
        "id": column("assessment", js.identifier, "id"),
        "title": column("assessment", js.string, "title"),
        "assessmentType": column("assessment", js.enum, "assessment_type"),
        "maxScore": column("assessment", js.decimal, "max_score"),
        "passingScore": column("assessment", js.decimal, "passing_score"),
        "timeLimitMin": column("assessment", optional(js.integer), "time_limit_min"),
        "maxAttempts": column("assessment", optional(js.integer), "max_attempts"),
        "dueAt": column("assessment", optional(js.timestamp), "due_at"),
        "version": column("assessment", js.integer, "version"),
        "course": linked(COURSES.name, "Course", "course", "assessment", "course_id"),
        "questions": _questions,
        "mySubmissions": _my_submissions,
    },
    "Submission": {
        "id": column("submission", js.identifier, "id"),
        "attemptNumber": column("submission", js.integer, "attempt_number"),
        "answers": column("submission", js.jsonb, "answers"),
        "score": column("submission", optional(js.decimal), "score"),
        "passed": column("submission", optional(js.boolean), "passed"),
        "feedback": column("submission", optional(js.string), "feedback"),
        "status": column("submission", js.enum, "status"),
        # Set once submitted; graphql-core would raise for a null here: the fallback reports it.
        "submittedAt": lambda node, row, scope: js.required(js.timestamp(f"{row['submission']}.submitted_at")),
        "gradedAt": column("submission", optional(js.timestamp), "graded_at"),
        "startedAt": column("submission", js.timestamp, "started_at"),
        "late": column("submission", js.boolean, "is_late"),
        "assessmentVersion": column("submission", js.integer, "assessment_version"),
        "assessment": linked(ASSESSMENTS.name, "Assessment", "assessment", "submission", "assessment_id"),
        "user": linked(USERS.name, "User", "user", "submission", "user_id"),
    },
    "Certificate": {
        "id": column("certificate", js.identifier, "id"),
        "issuedAt": column("certificate", js.timestamp, "issued_at"),
        "verificationCode": column("certificate", js.string, "verification_code"),
        "course": linked(COURSES.name, "Course", "course", "certificate", "course_id"),
        "user": linked(USERS.name, "User", "user", "certificate", "user_id"),
    },
    "Course": {"assessments": _course_assessments},
}
