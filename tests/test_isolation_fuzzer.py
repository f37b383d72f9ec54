"""Isolation fuzzer: every query and mutation that takes an id, found by introspecting the
schema, is called as each role of tenant B with tenant A's ids. Nothing of A may come back,
only NOT_FOUND (or FORBIDDEN where the role may not use the operation at all), and A's rows
stay as they were. An operation this file does not know how to call fails the test."""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest
from graphql import (
    GraphQLArgument,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
)

from lms_graphql.kit.db import Database
from lms_graphql.kit.homes import home_for
from lms_graphql.schema import schema
from lms_graphql.tenancy.tenant import TenantConfig
from tests.support.builders import BuiltCourse, build_course, count_statements, enroll
from tests.support.compiled_corpus import BENCH_DASHBOARD, CATALOGUE_FULL, COURSE_FIELDS
from tests.support.database import OwnedDatabaseUrls, home_connection
from tests.support.http import gql, login
from tests.support.people import Person, PersonFactory, TenantFactory

MARKER = "TENANT-A-SECRET"


@dataclass
class TenantA:
    admin: Person
    student: Person
    course: BuiltCourse
    notification: uuid.UUID
    submission: uuid.UUID
    files: tuple[uuid.UUID, uuid.UUID, uuid.UUID]  # pending uploads: a lesson's, a submission's, a logo
    export: uuid.UUID  # a ready export of the student's data

    def ids(self) -> dict[str, str]:
        return {
            "course": str(self.course.id),
            "module": str(self.course.module_ids[0]),
            "lesson": str(self.course.lesson_ids[0]),
            "assessment": str(self.course.assessment_ids[0]),
            "submission": str(self.submission),
            "notification": str(self.notification),
            "user": str(self.student.id),
            "tenant": str(self.admin.tenant.id),
            "lesson_file": str(self.files[0]),
            "submission_file": str(self.files[1]),
            "branding_file": str(self.files[2]),
            "export": str(self.export),
        }


# How to call each operation that takes an id, given tenant A's ids. A new operation with an
# id argument must be added here (the test says which).
Args = Callable[[dict[str, str]], dict[str, Any]]
ARGUMENTS: dict[str, Args] = {
    "course": lambda a: {"id": a["course"]},
    "requestLessonUpload": lambda a: {"lessonId": a["lesson"], "contentType": "application/pdf", "sizeBytes": 10},
    "confirmLessonUpload": lambda a: {"fileId": a["lesson_file"]},
    "requestSubmissionUpload": lambda a: {
        "assessmentId": a["assessment"],
        "contentType": "application/pdf",
        "sizeBytes": 10,
    },
    "confirmSubmissionUpload": lambda a: {"fileId": a["submission_file"]},
    "createCourse": lambda a: {"input": {"title": "pwned", "instructorId": a["user"]}},
    "courseStudents": lambda a: {"courseId": a["course"]},
    "courseStudentsConnection": lambda a: {"courseId": a["course"]},
    "assessmentSubmissions": lambda a: {"assessmentId": a["assessment"]},
    "courseAnalytics": lambda a: {"courseId": a["course"]},
    "submission": lambda a: {"id": a["submission"]},
    "updateCourse": lambda a: {"id": a["course"], "input": {"title": "pwned"}},
    "publishCourse": lambda a: {"id": a["course"]},
    "archiveCourse": lambda a: {"id": a["course"]},
    "createModule": lambda a: {"input": {"courseId": a["course"], "title": "pwned"}},
    "createLesson": lambda a: {"input": {"moduleId": a["module"], "title": "pwned", "contentType": "TEXT"}},
    "updateModule": lambda a: {"id": a["module"], "title": "pwned"},
    "updateLesson": lambda a: {"id": a["lesson"], "input": {"title": "pwned"}},
    "moveModule": lambda a: {"id": a["module"], "position": 5},
    "moveLesson": lambda a: {"id": a["lesson"], "position": 5, "moduleId": a["module"]},
    "deleteModule": lambda a: {"id": a["module"]},
    "deleteLesson": lambda a: {"id": a["lesson"]},
    "updateAssessment": lambda a: {"id": a["assessment"], "input": {"title": "pwned"}},
    "deleteAssessment": lambda a: {"id": a["assessment"]},
    "regradeAssessment": lambda a: {"id": a["assessment"], "version": 1},
    "dropEnrollment": lambda a: {"courseId": a["course"]},
    "setCoursePrerequisites": lambda a: {"courseId": a["course"], "requiredCourseIds": []},
    "removeStudent": lambda a: {"courseId": a["course"], "userId": a["user"]},
    "createAssessment": lambda a: {"input": {"courseId": a["course"], "title": "pwned", "assessmentType": "QUIZ"}},
    "enrollInCourse": lambda a: {"courseId": a["course"]},
    "updateLessonProgress": lambda a: {"lessonId": a["lesson"], "progress": 100},
    "startAssessment": lambda a: {"assessmentId": a["assessment"]},
    "submitAssessment": lambda a: {"assessmentId": a["assessment"], "answers": {}},
    "gradeSubmission": lambda a: {"submissionId": a["submission"], "score": 1.0},
    "markNotificationRead": lambda a: {"id": a["notification"]},
    "updateUser": lambda a: {"id": a["user"], "input": {"fullName": "pwned"}},
    "eraseUser": lambda a: {"id": a["user"]},
    "exportUserData": lambda a: {"userId": a["user"]},
    "dataExport": lambda a: {"id": a["export"]},
    "deactivateTenant": lambda a: {"id": a["tenant"]},
    "updateTenantPlan": lambda a: {"id": a["tenant"], "input": {"plan": "enterprise", "maxUsers": 1}},
    "confirmLogoUpload": lambda a: {"fileId": a["branding_file"]},
    "courseReportLink": lambda a: {"courseId": a["course"], "report": "GRADEBOOK"},
    "tenantUsage": lambda a: {"from": "2026-01-01", "to": "2026-01-31", "tenantId": a["tenant"]},
    "activateTenant": lambda a: {"id": a["tenant"]},
}


def _named(type_: Any) -> Any:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


def takes_an_id(argument: GraphQLArgument | Any, seen: frozenset[str] = frozenset()) -> bool:
    named = _named(argument.type)
    if isinstance(named, GraphQLScalarType):
        return named.name == "ID"
    if isinstance(named, GraphQLInputObjectType) and named.name not in seen:
        return any(takes_an_id(field, seen | {named.name}) for field in named.fields.values())
    return False


def operations_with_ids() -> dict[str, tuple[str, GraphQLField]]:
    graphql_schema = schema._schema
    found: dict[str, tuple[str, GraphQLField]] = {}
    for kind, root in (("query", graphql_schema.query_type), ("mutation", graphql_schema.mutation_type)):
        assert root is not None
        for name, field in root.fields.items():
            if any(takes_an_id(argument) for argument in field.args.values()):
                found[name] = (kind, field)
    return found


def document(kind: str, name: str, field: GraphQLField, variables: dict[str, Any]) -> str:
    used = [arg for arg in field.args if arg in variables]
    declared = ", ".join(f"${arg}: {field.args[arg].type}" for arg in used)
    passed = ", ".join(f"{arg}: ${arg}" for arg in used)
    selection = " { __typename }" if isinstance(_named(field.type), GraphQLObjectType) else ""
    return f"{kind}{f'({declared})' if declared else ''} {{ {name}{f'({passed})' if passed else ''}{selection} }}"


def test_every_operation_with_an_id_is_covered() -> None:
    missing = sorted(set(operations_with_ids()) - set(ARGUMENTS))
    assert missing == [], (
        f"say how to call these with another tenant's ids in tests/test_isolation_fuzzer.py: {missing}"
    )
    assert sorted(set(ARGUMENTS) - set(operations_with_ids())) == []


async def tenant_a(
    db: Database,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    urls: OwnedDatabaseUrls,
    placement: str = "pool",
) -> TenantA:
    tenant = await make_tenant(placement=placement)
    admin = await make_user(tenant, "admin")
    student = await make_user(tenant, "student")
    course = await build_course(db, tenant, admin.id, title=MARKER, assessments=1, status="draft")
    await enroll(db, tenant, student.id, course.id)
    notification, submission = uuid.uuid4(), uuid.uuid4()
    files, export = (uuid.uuid4(), uuid.uuid4(), uuid.uuid4()), uuid.uuid4()
    with tenant_home(urls, tenant) as conn:
        conn.execute(
            "INSERT INTO data_exports (tenant_id, id, user_id, requested_by, status, object_key, expires_at) "
            "VALUES (%s, %s, %s, %s, 'ready', %s, now() + interval '1 day')",
            (tenant.id, export, student.id, student.id, f"{tenant.id}/exports/{MARKER}.zip"),
        )
        conn.execute("UPDATE courses SET status = 'published', published_at = now() WHERE id = %s", (course.id,))
        conn.execute(
            "INSERT INTO notifications (tenant_id, id, user_id, event_type, title) VALUES (%s, %s, %s, 'x', %s)",
            (tenant.id, notification, student.id, MARKER),
        )
        conn.execute(
            "INSERT INTO submissions (tenant_id, id, assessment_id, user_id, answers, status, submitted_at)"
            " VALUES (%s, %s, %s, %s, %s, 'submitted', now())",
            (tenant.id, submission, course.assessment_ids[0], student.id, psycopg.types.json.Jsonb({"q1": MARKER})),
        )
        for file_id, owner in ((files[0], "lesson_id"), (files[1], "assessment_id")):
            owner_id = course.lesson_ids[0] if owner == "lesson_id" else course.assessment_ids[0]
            purpose = "lesson" if owner == "lesson_id" else "submission"
            conn.execute(
                "INSERT INTO stored_files (tenant_id, id, purpose, object_key, content_type, declared_bytes, "
                f"{owner}, uploaded_by, upload_expires_at) VALUES (%s, %s, %s, %s, 'application/pdf', 10, %s, %s, "
                "now())",
                (tenant.id, file_id, purpose, f"{tenant.id}/{MARKER}", owner_id, student.id),
            )
        conn.execute(
            "INSERT INTO stored_files (tenant_id, id, purpose, object_key, content_type, declared_bytes, uploaded_by, "
            "upload_expires_at) VALUES (%s, %s, 'branding', %s, 'image/png', 10, %s, now() + interval '1 hour')",
            (tenant.id, files[2], f"{tenant.id}/branding/{MARKER}.png", admin.id),
        )
    return TenantA(admin, student, course, notification, submission, files, export)


def tenant_home(urls: OwnedDatabaseUrls, tenant: TenantConfig) -> contextlib.AbstractContextManager[psycopg.Connection]:
    return home_connection(urls.owner, home_for(tenant.id, tenant.placement, tenant.cluster))


def snapshot(urls: OwnedDatabaseUrls, tenant: TenantConfig) -> list[Any]:
    tables = ("tenants", "users", "courses", "modules", "lessons", "assessments", "enrollments", "lesson_progress",
              "notifications", "submissions", "certificates", "stored_files", "lesson_media", "data_exports")  # fmt: skip
    rows = []
    with tenant_home(urls, tenant) as conn:
        for table in tables:
            column = "id" if table == "tenants" else "tenant_id"
            rows.append(
                conn.execute(
                    f"SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM {table} t "
                    f"WHERE {column} = %s",
                    (tenant.id,),
                ).fetchone()
            )
    return rows


@pytest.mark.parametrize("role", ["student", "instructor", "admin"])
async def test_tenant_b_gets_nothing_of_tenant_a(
    client: httpx.AsyncClient,
    db: Database,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    database_urls: OwnedDatabaseUrls,
    role: str,
) -> None:
    a = await tenant_a(db, make_tenant, make_user, database_urls)
    token = await login(client, await make_user(await make_tenant(), role))
    await probe_graphql(client, token, a, database_urls, role)


# Tenants in different homes: the same answers, whichever placement holds A and which B.
PLACEMENT_PAIRS = [("silo", "pool"), ("pool", "silo"), ("bridge", "pool"), ("pool", "bridge"), ("silo", "bridge")]


@pytest.mark.parametrize(("a_placement", "b_placement"), PLACEMENT_PAIRS)
async def test_tenant_b_gets_nothing_of_tenant_a_across_placements(
    client: httpx.AsyncClient,
    db: Database,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    database_urls: OwnedDatabaseUrls,
    a_placement: str,
    b_placement: str,
) -> None:
    a = await tenant_a(db, make_tenant, make_user, database_urls, a_placement)
    token = await login(client, await make_user(await make_tenant(placement=b_placement), "admin"))
    await probe_graphql(client, token, a, database_urls, "admin")
    await probe_rest(client, token, a, database_urls, "admin")


async def probe_graphql(client: httpx.AsyncClient, token: str, a: TenantA, urls: OwnedDatabaseUrls, role: str) -> None:
    """Every operation with an id, called with A's ids and with malformed ones: nothing of A
    comes back, and A's rows stay as they were."""
    before = snapshot(urls, a.admin.tenant)
    ids = a.ids()
    for name, (kind, field) in sorted(operations_with_ids().items()):
        variables = ARGUMENTS[name](ids)
        query = document(kind, name, field, variables)
        for attempt in (variables, _malformed(variables)):
            reply = await gql(client, query, attempt, token=token)
            assert reply.status == 200, (name, reply.body)
            assert reply.codes, (name, reply.body)
            assert set(reply.codes) <= {"NOT_FOUND", "FORBIDDEN"}, (name, role, reply.body)
            assert MARKER not in str(reply.body)
            data = reply.body.get("data")
            assert data is None or all(value is None for value in data.values()), (name, reply.body)
    assert snapshot(urls, a.admin.tenant) == before


COMPILED_READS = [CATALOGUE_FULL, BENCH_DASHBOARD, "query($id: ID!) { course(id: $id) {" + COURSE_FIELDS + "} }"]


@pytest.mark.parametrize("role", ["student", "instructor", "admin"])
async def test_tenant_b_reads_nothing_of_tenant_a_through_compiled_reads(
    client: httpx.AsyncClient,
    app: Any,
    db: Database,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    database_urls: OwnedDatabaseUrls,
    role: str,
) -> None:
    """The catalogue, the dashboard and one course, compiled into one statement each (binding,
    viewer, statement: 3), run in tenant B's transaction: nothing of A comes back."""
    a = await tenant_a(db, make_tenant, make_user, database_urls)
    token = await login(client, await make_user(await make_tenant(plan="enterprise"), role))
    await app.state.services.relay.idle()  # the relay's own statements are not the request's
    for query in COMPILED_READS:
        for course_id in (str(a.course.id), "not-an-id"):
            with count_statements(db.engine) as statements:
                reply = await gql(client, query, {"id": course_id}, token=token)
            assert reply.status == 200, reply.body
            assert MARKER not in str(reply.body)
            if "course(id:" in query:  # compiled, found nothing: the resolver says why
                assert reply.codes == ["NOT_FOUND"], reply.body
                assert reply.body["data"] == {"course": None}
                continue
            assert "errors" not in reply.body, reply.body
            assert len(statements) == 3, statements
            data = reply.body["data"]
            assert data.get("courses", {}).get("totalCount", 0) == 0
            assert data.get("myDashboard", {}).get("enrolledCourses", []) == []


def _malformed(variables: dict[str, Any]) -> dict[str, Any]:
    """The same call with every id replaced by something that is no id at all."""

    def swap(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, str):
            try:
                uuid.UUID(value)
            except ValueError:
                return value
            return "not-an-id"
        return value

    swapped: dict[str, Any] = swap(variables)
    return swapped


# REST path parameters, by name, to tenant A's ids (a new one must be added here).
REST_PARAMETERS = {
    "course_id": "course",
    "submission_id": "submission",
    "lesson_id": "lesson",
    "module_id": "module",
    "assessment_id": "assessment",
    "file_id": "lesson_file",
}
# Path parameters that are not ids: a valid value, so that the answer is about tenant A's ids.
REST_CHOICES = {"report": "gradebook"}
# What the writes send: valid bodies, so that the answer is about tenant A's ids.
REST_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("PUT", "/courses/{course_id}"): {"title": "pwned"},
    ("PUT", "/lessons/{lesson_id}/progress"): {"progress": 100},
    ("POST", "/assessments/{assessment_id}/submissions"): {"answers": {}},
    ("POST", "/lessons/{lesson_id}/uploads"): {"contentType": "application/pdf", "sizeBytes": 10},
    ("POST", "/assessments/{assessment_id}/uploads"): {"contentType": "application/pdf", "sizeBytes": 10},
}


def rest_paths_with_ids() -> list[tuple[str, str]]:
    """(method, path) of every REST operation that takes an id in its path, from the OpenAPI
    document (so a new endpoint is covered, or fails below until its parameter is named)."""
    from lms_graphql.rest.app import create_rest_app

    document = create_rest_app().openapi()
    return sorted(
        (method.upper(), path) for path, operations in document["paths"].items() for method in operations if "{" in path
    )


@pytest.mark.parametrize("role", ["student", "instructor", "admin"])
async def test_tenant_b_gets_nothing_of_tenant_a_through_rest(
    client: httpx.AsyncClient,
    db: Database,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    database_urls: OwnedDatabaseUrls,
    role: str,
) -> None:
    a = await tenant_a(db, make_tenant, make_user, database_urls)
    token = await login(client, await make_user(await make_tenant(), role))
    await probe_rest(client, token, a, database_urls, role)


async def probe_rest(client: httpx.AsyncClient, token: str, a: TenantA, urls: OwnedDatabaseUrls, role: str) -> None:
    before = snapshot(urls, a.admin.tenant)
    ids = a.ids()
    paths = rest_paths_with_ids()
    assert paths
    for method, template in paths:
        path = template
        for parameter in re.findall(r"\{(\w+)\}", template):
            if parameter in REST_CHOICES:
                path = path.replace("{" + parameter + "}", REST_CHOICES[parameter])
                continue
            assert parameter in REST_PARAMETERS, f"say which id {parameter} of {template} takes in REST_PARAMETERS"
            path = path.replace("{" + parameter + "}", ids[REST_PARAMETERS[parameter]])
        response = await client.request(
            method,
            f"/api/v1{path}",
            headers={"Authorization": f"Bearer {token}"},
            json=REST_BODIES.get((method, template)),
        )
        assert response.status_code == 404, (method, path, role, response.text)
        assert response.json()["code"] == "NOT_FOUND"
        assert MARKER not in response.text
    assert snapshot(urls, a.admin.tenant) == before
