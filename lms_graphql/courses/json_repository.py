"""The catalogue as compiled reads write it (see kit/json_plan.py): courses, modules, lessons
and the course connection, with the same filters, order and visibility as the repository
and the GraphQL types (a lesson's contentRef only for enrolled students and editors)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lms_graphql.courses.repository import CourseFilter, escape_like
from lms_graphql.kit import json_sql as js
from lms_graphql.kit.json_plan import (
    FieldSql,
    Node,
    NotCompilable,
    Reading,
    Row,
    Scope,
    column,
    linked,
    optional,
    tenant_filter,
)
from lms_graphql.kit.pagination import Keyset
from lms_graphql.models.tables import COURSES, ENROLLMENTS, LESSONS, MODULES

MODULE_ORDER = ("position", "created_at", "id")
LESSON_ORDER = ("position", "created_at", "id")


def ordered(alias: str, columns: tuple[str, ...]) -> list[str]:
    return [f"{alias}.{column}" for column in columns]


def content_visible(scope: Scope, course_id: str, instructor_id: str | None = None) -> str:
    """SQL: whether the viewer sees the content of course ``course_id`` (lessons_for in
    courses/types.py): enrolled and not dropped, or allowed to edit it."""
    if instructor_id is None:
        instructor_id = (
            f"(SELECT ci.instructor_id FROM {COURSES.name} ci WHERE {tenant_filter('ci')} AND ci.id = {course_id})"
        )
    enrolled = (
        f"EXISTS (SELECT 1 FROM {ENROLLMENTS.name} ce WHERE {tenant_filter('ce')} AND ce.user_id = %(viewer_id)s"
        f" AND ce.course_id = {course_id} AND ce.status <> 'dropped')"
    )
    return f"({enrolled} OR {scope.rights.may_edit_course(instructor_id)})"


def selects(node: Node, *path: str) -> bool:
    """Whether ``node`` selects the fields of ``path``, each under the one before."""
    if not path:
        return True
    return any(child.name == path[0] and selects(child, *path[1:]) for child in node.children)


def _modules(node: Node, row: Row, scope: Scope) -> str:
    course = row["course"]
    alias = scope.alias("m")
    sources = f"FROM {MODULES.name} {alias}"
    visible = row.get("content_visible")
    if visible is None and selects(node, "lessons", "contentRef"):
        # Once per course, not per lesson (OFFSET 0 keeps PostgreSQL from inlining it).
        shown = scope.alias("cv")
        sources += (
            f", (SELECT {content_visible(scope, f'{course}.id', f'{course}.instructor_id')} AS v OFFSET 0) {shown}"
        )
        visible = f"{shown}.v"
    sources += f" WHERE {tenant_filter(alias)} AND {alias}.course_id = {course}.id AND {alias}.archived_at IS NULL"
    module_row = {"module": alias} if visible is None else {"module": alias, "content_visible": visible}
    return js.json_array(scope.object("Module", node, module_row), sources, ordered(alias, MODULE_ORDER))


def _lessons(node: Node, row: Row, scope: Scope) -> str:
    module = row["module"]
    alias = scope.alias("l")
    sources = (
        f"FROM {LESSONS.name} {alias} WHERE {tenant_filter(alias)} AND {alias}.module_id = {module}.id"
        f" AND {alias}.archived_at IS NULL"
    )
    lesson_row = {"lesson": alias, "module": module}
    if "content_visible" in row:
        lesson_row["content_visible"] = row["content_visible"]
    return js.json_array(scope.object("Lesson", node, lesson_row), sources, ordered(alias, LESSON_ORDER))


def lesson_lock(lesson: str, module: str | None) -> str:
    """SQL: why the lesson is locked for the viewer (lesson_lock(), migration 0014), or NULL;
    with its module at hand, the function runs only where a rule exists."""
    call = f"lesson_lock({lesson}.tenant_id, {lesson}.id, %(viewer_id)s)"
    if module is None:
        return call
    rules = f"{lesson}.requires_previous OR {module}.requires_previous OR {module}.unlock_at IS NOT NULL"
    return f"(CASE WHEN {rules} THEN {call} END)"


def module_lock(module: str) -> str:
    call = f"module_lock({module}.tenant_id, {module}.id, %(viewer_id)s)"
    return f"(CASE WHEN {module}.requires_previous OR {module}.unlock_at IS NOT NULL THEN {call} END)"


def _content_ref(node: Node, row: Row, scope: Scope) -> str:
    lesson = row["lesson"]
    visible = row.get("content_visible") or content_visible(scope, f"{lesson}.course_id")
    instructor = (
        f"(SELECT ci.instructor_id FROM {COURSES.name} ci WHERE {tenant_filter('ci')} AND ci.id = {lesson}.course_id)"
    )
    # A locked lesson's content is for the course's editors only.
    hidden = (
        f"({lesson_lock(lesson, row.get('module'))} IS NOT NULL AND NOT {scope.rights.may_edit_course(instructor)})"
    )
    content = js.nullable(js.string(f"{lesson}.content_ref"))
    return f"(CASE WHEN {visible} AND NOT {hidden} THEN {content} ELSE {js.NULL} END)"


def cursor(alias: str) -> str:
    """encode_cursor(created_at, id) of kit/pagination.py: url-safe base64 of the compact JSON
    pair, without padding (PostgreSQL's base64 breaks lines every 76 characters)."""
    pair = f"'[\"' || {js.timestamp_text(f'{alias}.created_at')} || '\",\"' || {alias}.id::text || '\"]'"
    encoded = f"encode(convert_to({pair}, 'UTF8'), 'base64')"
    return f"('\"' || rtrim(translate({encoded}, E'+/\\n', '-_'), '=') || '\"')"


FIELDS: dict[str, dict[str, FieldSql]] = {
    "Course": {
        "id": column("course", js.identifier, "id"),
        "title": column("course", js.string, "title"),
        "slug": column("course", js.string, "slug"),
        "description": column("course", optional(js.string), "description"),
        "status": column("course", js.enum, "status"),
        "maxEnrollment": column("course", optional(js.integer), "max_enrollment"),
        "publishedAt": column("course", optional(js.timestamp), "published_at"),
        "createdAt": column("course", js.timestamp, "created_at"),
        "modules": _modules,
    },
    "Module": {
        "id": column("module", js.identifier, "id"),
        "title": column("module", js.string, "title"),
        "position": column("module", js.integer, "position"),
        "unlockAt": column("module", optional(js.timestamp), "unlock_at"),
        "requiresPrevious": column("module", js.boolean, "requires_previous"),
        "locked": lambda node, row, scope: js.boolean(f"({module_lock(row['module'])} IS NOT NULL)"),
        "lockReason": lambda node, row, scope: js.nullable(js.string(module_lock(row["module"]))),
        "course": linked(COURSES.name, "Course", "course", "module", "course_id"),
        "lessons": _lessons,
    },
    "Lesson": {
        "id": column("lesson", js.identifier, "id"),
        "title": column("lesson", js.string, "title"),
        "contentType": column("lesson", js.enum, "content_type"),
        "durationMin": column("lesson", optional(js.integer), "duration_min"),
        "position": column("lesson", js.integer, "position"),
        "requiresPrevious": column("lesson", js.boolean, "requires_previous"),
        "locked": lambda node, row, scope: js.boolean(f"({lesson_lock(row['lesson'], row.get('module'))} IS NOT NULL)"),
        "lockReason": lambda node, row, scope: js.nullable(js.string(lesson_lock(row["lesson"], row.get("module")))),
        "contentRef": _content_ref,
        "module": linked(MODULES.name, "Module", "module", "lesson", "module_id"),
    },
    "CourseEdge": {
        "node": lambda node, row, scope: scope.object("Course", node, {"course": row["course"]}),
        "cursor": lambda node, row, scope: cursor(row["course"]),
    },
}


# --- the catalogue: Query.courses ----------------------------------------------------


@dataclass(frozen=True)
class CatalogueShape:
    """What shapes the catalogue's statement (its cached text): which filters apply."""

    see_all: bool
    own: bool
    status: bool
    search: bool
    after: bool


def catalogue_reading(course_filter: CourseFilter, after: Keyset | None, limit: int) -> Reading:
    """The facts and parameters of one catalogue page (CourseRepository.page's)."""
    params: dict[str, Any] = {"limit": limit}
    if course_filter.own_instructor_id is not None:
        params["own"] = course_filter.own_instructor_id
    if course_filter.status is not None:
        params["status"] = course_filter.status
    if course_filter.search:
        params["pattern"] = f"%{escape_like(course_filter.search)}%"
    if after is not None:
        params["after_at"], params["after_id"] = after.at, after.id
    shape = CatalogueShape(
        see_all=course_filter.see_all,
        own=course_filter.own_instructor_id is not None,
        status=course_filter.status is not None,
        search=bool(course_filter.search),
        after=after is not None,
    )
    return Reading(shape, params)


def _filter(node: Node, shape: CatalogueShape, alias: str) -> list[str]:
    clauses = [tenant_filter(alias)]
    if not shape.see_all:
        published = f"{alias}.status = 'published'"
        own = f"{alias}.instructor_id = {node.param('own')}::uuid"
        clauses.append(f"({published} OR {own})" if shape.own else published)
    if shape.status:
        clauses.append(f"{alias}.status = {node.param('status')}")
    if shape.search:
        pattern = f"{node.param('pattern')}::text"
        clauses.append(
            f"({alias}.title ILIKE {pattern} ESCAPE '\\' OR {alias}.description ILIKE {pattern} ESCAPE '\\')"
        )
    return clauses


def catalogue(node: Node, shape: CatalogueShape, scope: Scope) -> str:
    """A CourseConnection: the page's rows numbered newest first, one more than asked for
    (it tells whether another page follows), folded into one object."""
    page, course = scope.alias("p"), scope.alias("c")
    limit = f"{node.param('limit')}::int"
    where = _filter(node, shape, course)
    if shape.after:
        where.append(f"({course}.created_at, {course}.id) < ({node.param('after_at')}, {node.param('after_id')}::uuid)")
    order = f"{course}.created_at DESC, {course}.id DESC"
    rows = (
        f"SELECT {course}.*, row_number() OVER (ORDER BY {order}) AS rn FROM {COURSES.name} {course}"
        f" WHERE {' AND '.join(where)} ORDER BY {order} LIMIT {limit} + 1"
    )
    fields = []
    for child in node.children:
        if child.name == "__typename":
            fields.append((child.key, js.literal('"CourseConnection"')))
        elif child.name == "edges":
            edge = scope.object("CourseEdge", child, {"course": page})
            edges = f"string_agg({edge}, ',' ORDER BY {page}.rn) FILTER (WHERE {page}.rn <= {limit})"
            fields.append((child.key, f"('[' || coalesce({edges}, '') || ']')"))
        elif child.name == "pageInfo":
            fields.append((child.key, _page_info(child, page, limit)))
        elif child.name == "totalCount":
            counted = scope.alias("c")
            total = f"SELECT count(*) FROM {COURSES.name} {counted} WHERE {' AND '.join(_filter(node, shape, counted))}"
            fields.append((child.key, f"({total})::text"))
        else:
            raise NotCompilable(f"CourseConnection.{child.name} is not compiled")
    return f"(SELECT {js.json_object(fields)} FROM ({rows}) {page} GROUP BY ())"


def _page_info(node: Node, page: str, limit: str) -> str:
    fields = []
    for child in node.children:
        if child.name == "__typename":
            fields.append((child.key, js.literal('"PageInfo"')))
        elif child.name == "hasNextPage":
            fields.append((child.key, js.boolean(f"count(*) > {limit}")))
        elif child.name == "endCursor":
            last = f"(array_agg({cursor(page)} ORDER BY {page}.rn DESC) FILTER (WHERE {page}.rn <= {limit}))[1]"
            fields.append((child.key, js.nullable(last)))
        else:
            raise NotCompilable(f"PageInfo.{child.name} is not compiled")
    return js.json_object(fields)


# --- one course: Query.course ----------------------------------------------------------


def one_course(node: Node, facts: object, scope: Scope) -> str:
    """The course ``id`` if the viewer may see it (visible_course in courses/graphql.py:
    published, editable by the viewer, or one the viewer has an enrollment in, of any
    status). None found is FALLBACK: the resolver answers NOT_FOUND."""
    course, enrolled = scope.alias("c"), scope.alias("ce")
    visible = (
        f"({course}.status = 'published' OR {scope.rights.may_edit_course(f'{course}.instructor_id')}"
        f" OR EXISTS (SELECT 1 FROM {ENROLLMENTS.name} {enrolled} WHERE {tenant_filter(enrolled)}"
        f" AND {enrolled}.user_id = %(viewer_id)s AND {enrolled}.course_id = {course}.id))"
    )
    sources = (
        f"FROM {COURSES.name} {course} WHERE {tenant_filter(course)} AND {course}.id = {node.param('id')}::uuid"
        f" AND {visible}"
    )
    return js.required(js.scalar_subquery(scope.object("Course", node, {"course": course}), sources))
