"""Usage for billing (metered by every server, measured by housekeeping, read by operators) and
a course's reports as CSV (REST with a token, or a signed link GraphQL gives), streamed."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg

from lms_graphql.administration.usage import UsageMeter, measure_tenants
from lms_graphql.kit.db import Database
from tests.support.http import gql, login
from tests.support.people import PASSWORD, PersonFactory, TenantFactory
from tests.support.quizzes import ALL_RIGHT, QUESTIONS, classroom, learner
from tests.support.scenes import NOTIFICATION_FEED
from tests.support.servers import live_server, subscribed

USAGE = """query($f: Date!, $t: Date!, $id: ID) { tenantUsage(from: $f, to: $t, tenantId: $id) {
  day tenantSlug activeUsers enrolledLearners costUnits websocketSeconds storedBytes } }"""
LINK = """mutation($c: ID!, $r: CourseReport!) { courseReportLink(courseId: $c, report: $r) { url expiresAt } }"""
SUBMIT = """mutation($a: ID!, $answers: JSON!) { submitAssessment(assessmentId: $a, answers: $answers) { score } }"""


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def rows_of(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf") or body[:4] == b"day,"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


async def test_usage_is_metered_measured_and_read_by_operators_only(
    app: Any, client: httpx.AsyncClient, db: Database, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    operator = await login(client, await make_user(await make_tenant(plan="enterprise"), "super_admin"))
    room = await classroom(client, make_tenant, make_user, db)
    tenant = room.teacher.tenant
    _, student = await learner(client, make_user, room)
    for _ in range(3):
        assert (await gql(client, "{ myEnrollments { id } }", token=student)).data
    assert (await client.get("/api/v1/courses", headers=bearer(student))).status_code == 200
    await app.state.services.usage.flush(db)
    await measure_tenants(db, [tenant.id], datetime.now(UTC).date())

    variables = {"f": today(), "t": today(), "id": str(tenant.id)}
    (day,) = (await gql(client, USAGE, variables, token=operator)).data["tenantUsage"]
    assert day["tenantSlug"] == tenant.slug
    assert (day["activeUsers"], day["enrolledLearners"]) == (1, 1)  # the student (the teacher only signed in)
    assert day["costUnits"] >= 5
    assert (await gql(client, USAGE, variables, token=room.teacher_token)).codes == ["FORBIDDEN"]
    backwards = {**variables, "f": (datetime.now(UTC).date() + timedelta(days=1)).isoformat()}
    assert (await gql(client, USAGE, backwards, token=operator)).codes == ["BAD_USER_INPUT"]

    exported = await client.get(f"/api/v1/usage.csv?from={today()}&to={today()}", headers=bearer(operator))
    assert exported.status_code == 200, exported.text
    header, *rows = rows_of(exported.content)
    assert header[:3] == ["day", "tenant_id", "tenant_slug"]
    assert [today(), str(tenant.id), tenant.slug] in [row[:3] for row in rows]
    refused = await client.get(f"/api/v1/usage.csv?from={today()}&to={today()}", headers=bearer(student))
    assert refused.status_code == 403


async def test_servers_flushing_at_once_add_up(
    db: Database, make_tenant: TenantFactory, owner_conn: psycopg.Connection
) -> None:
    tenant = await make_tenant()
    meters = [UsageMeter() for _ in range(4)]
    for number, meter in enumerate(meters, start=1):
        meter.spent(tenant.id, number * 10, None)
        meter.socket_seconds(tenant.id, number)
    meters[0].spent(uuid.uuid4(), 5, uuid.uuid4())  # a tenant purged meanwhile: dropped, the rest recorded
    await asyncio.gather(*(meter.flush(db) for meter in meters))
    row = owner_conn.execute(
        "SELECT cost_units, websocket_seconds FROM lms_usage.tenant_days WHERE tenant_id = %s", (tenant.id,)
    ).fetchone()
    assert row == (100, 10)


async def test_websocket_time_is_metered(
    env_for_cli: dict[str, str], make_tenant: TenantFactory, make_user: PersonFactory, owner_conn: psycopg.Connection
) -> None:
    tenant = await make_tenant()
    person = await make_user(tenant)
    with live_server(env_for_cli) as server:
        token = await server.login(tenant.slug, person.email, PASSWORD)
        async with subscribed(server, token, NOTIFICATION_FEED) as feed:
            await feed.quiet(2.5)
        assert feed.error is None
    # The server flushed what it metered when it stopped.
    (seconds,) = owner_conn.execute(
        "SELECT coalesce(sum(websocket_seconds), 0) FROM lms_usage.tenant_days WHERE tenant_id = %s", (tenant.id,)
    ).fetchone() or (0,)
    assert seconds >= 2


async def test_course_reports_stream_as_csv_to_its_instructor_and_admins(
    client: httpx.AsyncClient,
    db: Database,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    owner_conn: psycopg.Connection,
) -> None:
    room = await classroom(client, make_tenant, make_user, db)
    quiz = await room.assessment(client, title="Quiz one")
    await room.assessment(client, title="=2+3")  # a title a spreadsheet would run
    first_learner, token = await learner(client, make_user, room)
    _, idle = await learner(client, make_user, room)
    assert (await gql(client, SUBMIT, {"a": quiz, "answers": ALL_RIGHT}, token=token)).data
    progress = "mutation($l: ID!, $p: Int!) { updateLessonProgress(lessonId: $l, progress: $p) { progressPct } }"
    assert (await gql(client, progress, {"l": str(room.lesson_ids[0]), "p": 100}, token=token)).data

    gradebook = await client.get(f"/api/v1/courses/{room.course_id}/gradebook.csv", headers=bearer(room.teacher_token))
    assert gradebook.status_code == 200, gradebook.text
    assert gradebook.headers["content-type"].startswith("text/csv")
    header, *rows = rows_of(gradebook.content)
    assert header == [
        "user_id",
        "email",
        "full_name",
        "enrollment_status",
        "progress_pct",
        "Quiz one (/100.00)",
        "'=2+3 (/100.00)",
        "assessments_passed",
    ]
    assert len(rows) == 2
    mine = next(row for row in rows if row[0] == str(first_learner.id))
    assert (mine[5], mine[6], mine[7]) == ("100.0", "", "1")

    completion = await client.get(
        f"/api/v1/courses/{room.course_id}/completion.csv", headers=bearer(room.teacher_token)
    )
    header, *rows = rows_of(completion.content)
    done = next(row for row in rows if row[0] == str(first_learner.id))
    assert (done[header.index("lessons_completed")], done[header.index("lessons_total")]) == ("1", "1")
    refused = await client.get(f"/api/v1/courses/{room.course_id}/gradebook.csv", headers=bearer(idle))
    assert (refused.status_code, refused.json()["code"]) == (403, "FORBIDDEN")

    link = (await gql(client, LINK, {"c": str(room.course_id), "r": "GRADEBOOK"}, token=room.teacher_token)).data
    url = link["courseReportLink"]["url"]
    assert (await client.get(url)).content == gradebook.content  # no token: the link is the permission
    tampered = await client.get(url.replace("gradebook.csv", "completion.csv"))
    assert tampered.status_code == 403
    assert (await gql(client, LINK, {"c": str(room.course_id), "r": "COMPLETION"}, token=idle)).codes == ["FORBIDDEN"]
    audited = owner_conn.execute(
        "SELECT count(*) FROM audit_log WHERE tenant_id = %s AND action LIKE 'reports.%%'", (room.teacher.tenant.id,)
    ).fetchone()
    assert audited == (3,)


async def test_a_report_of_a_course_without_learners_is_its_header(
    client: httpx.AsyncClient, db: Database, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    room = await classroom(client, make_tenant, make_user, db)
    await room.assessment(client, questions=QUESTIONS)
    admin = await login(client, await make_user(room.teacher.tenant, "admin"))
    for report in ("gradebook", "completion"):
        answer = await client.get(f"/api/v1/courses/{room.course_id}/{report}.csv", headers=bearer(admin))
        assert len(rows_of(answer.content)) == 1
    unknown = await client.get(f"/api/v1/courses/{room.course_id}/grades.csv", headers=bearer(admin))
    assert (unknown.status_code, unknown.json()["code"]) == (422, "BAD_USER_INPUT")
