"""REST /api/v1: the same tenants, tokens, roles and services as GraphQL; problems for errors;
pages with Link headers; ETags."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import httpx
import pytest

from lms_graphql.kit.db import Database
from tests.support.builders import build_course
from tests.support.http import gql, login
from tests.support.people import PersonFactory, TenantFactory

COURSE_FIELDS = "id title slug description status maxEnrollment publishedAt createdAt instructor { id }"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_the_catalogue_a_page_at_a_time_with_links_and_etags(
    client: httpx.AsyncClient, db: Database, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    courses = [await build_course(db, tenant, teacher.id, title=f"Course {n}") for n in range(5)]
    await build_course(db, tenant, teacher.id, title="Draft", status="draft")
    token = await login(client, await make_user(tenant))
    seen: list[str] = []
    url: str | None = "/api/v1/courses?first=2"
    while url is not None:
        response = await client.get(url, headers=bearer(token))
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [course["title"] for course in body["items"]]
        link = response.headers.get("link")
        assert (link is None) == (body["nextCursor"] is None)
        url = link.split(";")[0].strip("<>").removeprefix("http://testserver") if link else None
    assert seen == [f"Course {n}" for n in reversed(range(5))]  # newest first, no draft for a student
    listed = await client.get("/api/v1/courses", headers=bearer(token))
    tag = listed.headers["etag"]
    again = await client.get("/api/v1/courses", headers={**bearer(token), "If-None-Match": tag})
    assert (again.status_code, again.content) == (304, b"")
    assert len(courses) == 5


async def test_rest_and_graphql_read_the_same_course(
    client: httpx.AsyncClient,
    db: Database,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    course = await build_course(db, tenant, teacher.id, title="Parity", max_enrollment=30)
    student = await make_user(tenant)
    token = await login(client, student)
    with caplog.at_level(logging.INFO, logger="lms_graphql.access"):
        rest = (await client.get(f"/api/v1/courses/{course.id}", headers=bearer(token))).json()
    (line,) = [r for r in caplog.records if r.name == "lms_graphql.access"]
    assert line.getMessage() == f"GET /api/v1/courses/{course.id} 200"
    assert line.__dict__["user"] == str(student.id)
    reply = await gql(
        client, f"query($c: ID!) {{ course(id: $c) {{ {COURSE_FIELDS} }} }}", {"c": str(course.id)}, token=token
    )
    graph: dict[str, Any] = reply.data["course"]
    graph["instructorId"] = graph.pop("instructor")["id"]
    assert rest == graph


async def test_errors_are_problems_with_the_graphql_codes(
    client: httpx.AsyncClient, db: Database, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    tenant, other = await make_tenant(), await make_tenant()
    teacher = await make_user(tenant, "instructor")
    draft = await build_course(db, tenant, teacher.id, status="draft")
    elsewhere = await build_course(db, other, (await make_user(other, "instructor")).id)
    token = await login(client, await make_user(tenant))

    async def code_of(path: str, headers: dict[str, str]) -> tuple[int, str, str]:
        response = await client.get(path, headers=headers)
        assert response.headers["content-type"] == "application/problem+json", response.text
        body = response.json()
        assert body["status"] == response.status_code
        return response.status_code, body["code"], body["type"]

    assert (await code_of(f"/api/v1/courses/{draft.id}", bearer(token)))[:2] == (404, "NOT_FOUND")
    assert (await code_of(f"/api/v1/courses/{elsewhere.id}", bearer(token)))[:2] == (404, "NOT_FOUND")
    assert (await code_of(f"/api/v1/courses/{uuid.uuid4()}", bearer(token)))[:2] == (404, "NOT_FOUND")
    anonymous = await code_of("/api/v1/courses", {"X-Tenant-ID": tenant.slug})
    assert anonymous == (401, "UNAUTHENTICATED", "urn:lms-graphql:problem:unauthenticated")
    assert (await code_of("/api/v1/courses", {}))[:2] == (400, "TENANT_NOT_RESOLVED")
    assert (await code_of("/api/v1/courses", {"Authorization": "Bearer junk"}))[:2] == (401, "INVALID_TOKEN")
    wrong_tenant = {**bearer(token), "X-Tenant-ID": other.slug}
    assert (await code_of("/api/v1/courses", wrong_tenant))[:2] == (403, "TENANT_MISMATCH")
    invalid = await client.get("/api/v1/courses?first=500&status=NOPE", headers=bearer(token))
    assert invalid.status_code == 422
    problem = invalid.json()
    assert problem["code"] == "BAD_USER_INPUT"
    assert {error["path"] for error in problem["errors"]} == {"query.first", "query.status"}
    bad_cursor = await client.get("/api/v1/courses?after=nonsense", headers=bearer(token))
    assert (bad_cursor.status_code, bad_cursor.json()["code"]) == (400, "BAD_USER_INPUT")
    not_an_id = await client.get("/api/v1/courses/not-a-uuid", headers=bearer(token))
    assert not_an_id.status_code == 422


async def test_the_openapi_document_is_generated_and_open(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    assert {"/courses", "/courses/{course_id}"} <= set(document["paths"])
    assert "Course" in document["components"]["schemas"]


async def test_enrollments_students_submissions_and_analytics_as_graphql_reads_them(
    client: httpx.AsyncClient, db: Database, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    from tests.support.quizzes import ALL_RIGHT, SUBMIT, classroom, learner

    room = await classroom(client, make_tenant, make_user, db, lessons=2)
    quiz = await room.assessment(client, maxAttempts=2)
    student, token = await learner(client, make_user, room)
    submitted = (await gql(client, SUBMIT, {"a": quiz, "answers": ALL_RIGHT}, token=token)).data["submitAssessment"]
    admin = await login(client, await make_user(room.teacher.tenant, "admin"))

    mine = (await client.get("/api/v1/enrollments", headers=bearer(token))).json()["items"]
    graph = (await gql(client, "{ myEnrollments { id status progressPercent enrolledAt completedAt droppedAt } }",
                       token=token)).data["myEnrollments"]  # fmt: skip
    assert [{k: e[k] for k in graph[0]} for e in mine] == graph
    assert mine[0]["courseId"] == str(room.course_id)

    students = await client.get(f"/api/v1/courses/{room.course_id}/students", headers=bearer(room.teacher_token))
    assert [e["userId"] for e in students.json()["items"]] == [str(student.id)]
    refused = await client.get(f"/api/v1/courses/{room.course_id}/students", headers=bearer(token))
    assert (refused.status_code, refused.json()["code"]) == (403, "FORBIDDEN")

    submission = (await client.get(f"/api/v1/submissions/{submitted['id']}", headers=bearer(token))).json()
    graph_submission = (await gql(
        client, "query($s: ID!) { submission(id: $s) { id attemptNumber score passed status late answers } }",
        {"s": submitted["id"]}, token=token,
    )).data["submission"]  # fmt: skip
    assert {k: submission[k] for k in graph_submission} == graph_submission
    stranger = await login(client, await make_user(room.teacher.tenant))
    hidden = await client.get(f"/api/v1/submissions/{submitted['id']}", headers=bearer(stranger))
    assert hidden.status_code == 404

    completion = (await client.get(f"/api/v1/analytics/courses/{room.course_id}/completion",
                                   headers=bearer(room.teacher_token))).json()  # fmt: skip
    graph_completion = (await gql(
        client,
        "query($c: ID!) { courseAnalytics(courseId: $c) { enrollmentCount completedCount completionRate "
        "averageProgress averageScore lessonCompletion { lesson { id } completedCount completionRate } } }",
        {"c": str(room.course_id)}, token=room.teacher_token,
    )).data["courseAnalytics"]  # fmt: skip
    assert completion["lessons"] == [
        {
            "lessonId": row["lesson"]["id"],
            "completedCount": row["completedCount"],
            "completionRate": row["completionRate"],
        }
        for row in graph_completion.pop("lessonCompletion")
    ]
    assert {k: completion[k] for k in graph_completion} == graph_completion

    overview = (await client.get("/api/v1/analytics/tenant/overview", headers=bearer(admin))).json()
    graph_overview = (await gql(
        client, "{ tenantOverview { placement region userCount studentCount instructorCount courseCount "
        "publishedCourseCount enrollmentCount completionRate } }", token=admin,
    )).data["tenantOverview"]  # fmt: skip
    assert overview == graph_overview
    below = await client.get("/api/v1/analytics/tenant/overview", headers=bearer(token))
    assert (below.status_code, below.json()["code"]) == (403, "FORBIDDEN")


async def test_rest_charges_the_buckets_graphql_charges(
    client: httpx.AsyncClient, app: Any, make_tenant: TenantFactory, make_user: PersonFactory, owner_conn: Any
) -> None:
    from tests.support.limits import with_limits

    tenant = await make_tenant()
    token = await login(client, await make_user(tenant))
    await with_limits(owner_conn, app, tenant, user_cost_per_minute=50)
    first = await client.get("/api/v1/courses?first=40", headers=bearer(token))
    assert first.status_code == 200
    assert first.headers["x-query-cost"] == "40"
    second = await client.get("/api/v1/courses?first=40", headers=bearer(token))
    assert (second.status_code, second.json()["code"]) == (429, "RATE_LIMITED")
    assert int(second.headers["retry-after"]) >= 1
    # The same bucket: GraphQL asking as much is refused now too.
    reply = await gql(client, "{ courses(pagination: {first: 40}) { edges { node { id } } } }", token=token)
    assert reply.codes == ["RATE_LIMITED"]


async def test_writes_audited_and_idempotent(
    client: httpx.AsyncClient, db: Database, make_tenant: TenantFactory, make_user: PersonFactory, owner_conn: Any
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    token = await login(client, teacher)
    headers = {**bearer(token), "Idempotency-Key": "create-1"}
    created = await client.post(
        "/api/v1/courses", json={"title": "Made over REST", "maxEnrollment": 5}, headers=headers
    )
    assert created.status_code == 201, created.text
    course = created.json()
    assert (course["title"], course["status"], course["maxEnrollment"]) == ("Made over REST", "DRAFT", 5)
    replayed = await client.post(
        "/api/v1/courses", json={"title": "Made over REST", "maxEnrollment": 5}, headers=headers
    )
    assert (replayed.status_code, replayed.json(), replayed.headers["idempotent-replayed"]) == (201, course, "true")
    clash = await client.post("/api/v1/courses", json={"title": "Another"}, headers=headers)
    assert (clash.status_code, clash.json()["code"]) == (409, "CONFLICT")
    count = owner_conn.execute("SELECT count(*) FROM courses WHERE tenant_id = %s", (tenant.id,)).fetchone()
    assert count == (1,)

    changed = await client.put(f"/api/v1/courses/{course['id']}", json={"maxEnrollment": None}, headers=bearer(token))
    assert (changed.json()["maxEnrollment"], changed.json()["title"]) == (None, "Made over REST")
    refused = await client.put(f"/api/v1/courses/{course['id']}", json={"title": None}, headers=bearer(token))
    assert (refused.status_code, refused.json()["code"]) == (400, "BAD_USER_INPUT")
    archived = await client.delete(f"/api/v1/courses/{course['id']}", headers=bearer(token))
    assert archived.json()["status"] == "ARCHIVED"
    student = await login(client, await make_user(tenant))
    forbidden = await client.post("/api/v1/courses", json={"title": "Nope"}, headers=bearer(student))
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "FORBIDDEN")
    actions = owner_conn.execute(
        "SELECT action, details ->> 'transport', details ->> 'outcome' FROM audit_log WHERE tenant_id = %s"
        " ORDER BY occurred_at",
        (tenant.id,),
    ).fetchall()
    assert [row for row in actions if row[1] == "rest"] == [
        ("createCourse", "rest", None),
        ("updateCourse", "rest", None),
        ("updateCourse", "rest", "BAD_USER_INPUT"),
        ("archiveCourse", "rest", None),
        ("createCourse", "rest", "FORBIDDEN"),  # refusals are recorded too, as for mutations
    ]


async def test_enrolling_and_progress_over_rest(
    client: httpx.AsyncClient, db: Database, make_tenant: TenantFactory, make_user: PersonFactory, owner_conn: Any
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    course = await build_course(db, tenant, teacher.id, modules=1, lessons=2, max_enrollment=1)
    token = await login(client, await make_user(tenant))
    enrolled = await client.post(f"/api/v1/courses/{course.id}/enroll", headers=bearer(token))
    assert (enrolled.status_code, enrolled.json()["status"]) == (201, "ACTIVE")
    again = await client.post(f"/api/v1/courses/{course.id}/enroll", headers=bearer(token))
    assert (again.status_code, again.json()["code"]) == (409, "CONFLICT")
    other = await login(client, await make_user(tenant))
    full = await client.post(f"/api/v1/courses/{course.id}/enroll", headers=bearer(other))
    assert (full.status_code, full.json()["code"]) == (409, "COURSE_FULL")
    progress = await client.put(
        f"/api/v1/lessons/{course.lesson_ids[0]}/progress", json={"progress": 100}, headers=bearer(token)
    )
    assert progress.json()["progressPct"] == 100
    events = owner_conn.execute(
        "SELECT event_type FROM domain_events WHERE tenant_id = %s ORDER BY occurred_at", (tenant.id,)
    ).fetchall()
    assert ("student.enrolled",) in events
    assert ("lesson.completed",) in events
    out_of_range = await client.put(
        f"/api/v1/lessons/{course.lesson_ids[0]}/progress", json={"progress": 101}, headers=bearer(token)
    )
    assert (out_of_range.status_code, out_of_range.json()["code"]) == (400, "BAD_USER_INPUT")
