"""Learning paths as compiled reads write them (see kit/json_plan.py): a course's prerequisites,
and whether it is locked for the viewer (course_lock(), migration 0013: the rule enrolling uses)."""

from __future__ import annotations

from lms_graphql.kit import json_sql as js
from lms_graphql.kit.json_plan import FieldSql, Node, Row, Scope, tenant_filter
from lms_graphql.models.tables import PREREQUISITES


def _prerequisite_ids(node: Node, row: Row, scope: Scope) -> str:
    alias = scope.alias("pr")
    sources = (
        f"FROM {PREREQUISITES.name} {alias} WHERE {tenant_filter(alias)} AND {alias}.course_id = {row['course']}.id"
    )
    order = [f"{alias}.created_at", f"{alias}.required_course_id"]
    return js.json_array(js.identifier(f"{alias}.required_course_id"), sources, order)


def _lock(row: Row) -> str:
    course = row["course"]
    return f"course_lock({course}.tenant_id, {course}.id, %(viewer_id)s)"


FIELDS: dict[str, dict[str, FieldSql]] = {
    "Course": {
        "prerequisiteIds": _prerequisite_ids,
        "locked": lambda node, row, scope: js.boolean(f"({_lock(row)} IS NOT NULL)"),
        "lockReason": lambda node, row, scope: js.nullable(js.string(_lock(row))),
    },
}
