"""What the compiled-read tests run against: one app answering reads compiled and one the
ordinary way, over the same database, and a tenant whose data has what byte-for-byte
equality can trip on (nulls, empty lists, drafts, archived and dropped, unicode and control
characters, JSON payloads, half-way roundings), seen by every kind of viewer."""

from __future__ import annotations

import difflib
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest

from lms_graphql.config import Settings
from lms_graphql.kit.db import Database
from lms_graphql.tenancy.tenant import TenantConfig
from tests.support.builders import build_course, enroll
from tests.support.http import TEST_JWT_KEYS, gql, login
from tests.support.people import Person, PersonFactory, TenantFactory
from tests.support.quizzes import QUESTIONS

LIFTED = {"max_cost": 10**9, "tenant_cost_per_minute": 10**12, "user_cost_per_minute": 10**12, "max_depth": 15}
TRICKY = 'Intro "quoted" \\ back, é ü ß 漢字 😀 </script> &amp; %_'
CONTROL = "line\nnext\ttab\r\x00\x01\x1f\x7f \u2028 \u2029 end".replace("\x00", "")
PROGRESS = "mutation($l: ID!, $p: Int!) { updateLessonProgress(lessonId: $l, progress: $p) { progressPct } }"
ENROLL = "mutation($c: ID!) { enrollInCourse(courseId: $c) { id } }"


@dataclass
class Viewer:
    token: str
    tenant: str  # the slug it addresses (X-Tenant-ID)


@dataclass
class World:
    viewers: dict[str, Viewer]
    course_ids: list[str]
    tenant: TenantConfig
    cursors: list[str] = field(default_factory=list)  # an endCursor, and ones that are not

    def __repr__(self) -> str:  # Hypothesis prints a failing example's arguments
        return f"World({sorted(self.viewers)})"


@asynccontextmanager
async def two_apps(db: Database, env: dict[str, str]) -> AsyncIterator[tuple[Any, Any]]:
    """(compiled, interpreted): the same server twice, reads compiled in the first only; both in
    bench mode, so each answer says how it ran (X-Execution)."""
    from lms_graphql.app import create_app

    apps = []
    for compiled in ("true", "false"):
        settings = {**env, "LMS_JWT_KEYS": TEST_JWT_KEYS, "LMS_BENCH": "1", "LMS_COMPILED_READS": compiled}
        apps.append(create_app(Settings.from_env(settings), db=db))
    compiled_app, interpreted_app = apps
    async with (
        compiled_app.router.lifespan_context(compiled_app),
        interpreted_app.router.lifespan_context(interpreted_app),
    ):
        yield compiled_app, interpreted_app


def client_of(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


DELETE_MODULE = "mutation($id: ID!) { deleteModule(id: $id) { archived } }"
PREREQUISITES = "mutation($c: ID!, $r: [ID!]!) { setCoursePrerequisites(courseId: $c, requiredCourseIds: $r) { id } }"
DELETE_LESSON = "mutation($id: ID!) { deleteLesson(id: $id) { archived } }"


async def build_world(
    client: httpx.AsyncClient,
    apps: tuple[Any, ...],
    db: Database,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    owner_conn: psycopg.Connection,
) -> World:
    async def lifted_tenant() -> TenantConfig:
        tenant = await make_tenant(plan="enterprise", max_users=10_000)
        owner_conn.execute(
            "UPDATE tenants SET settings = jsonb_set(settings, '{limits}', %s) WHERE id = %s",
            (json.dumps(LIFTED), tenant.id),
        )
        for app in apps:
            app.state.services.registry.invalidate(tenant.slug)
        return tenant

    tenant = await lifted_tenant()
    people: dict[str, Person] = {
        "student": await make_user(tenant, "student"),
        "newcomer": await make_user(tenant, "student"),
        "rounder": await make_user(tenant, "student"),
        "instructor": await make_user(tenant, "instructor"),
        "colleague": await make_user(tenant, "instructor"),
        "admin": await make_user(tenant, "admin"),
    }
    student, teacher, colleague = people["student"], people["instructor"], people["colleague"]
    owner_conn.execute("UPDATE users SET full_name = %s, avatar_url = %s WHERE id = %s", (TRICKY, CONTROL, teacher.id))
    now = datetime.now(UTC)
    published = await build_course(
        db, tenant, teacher.id, title=TRICKY, description=CONTROL, modules=3, lessons=3, assessments=2,
        max_enrollment=50, created_at=now - timedelta(days=1),
    )  # fmt: skip
    draft = await build_course(db, tenant, teacher.id, title="Draft", status="draft", modules=1, lessons=2)
    archived = await build_course(db, tenant, colleague.id, title="Archived", modules=2, lessons=1, assessments=1)
    hollow = await build_course(db, tenant, colleague.id, title="Hollow", modules=0, assessments=0)
    empty_module = await build_course(db, tenant, colleague.id, title="Empty module", modules=1, lessons=0)
    others = [
        await build_course(
            db, tenant, colleague.id, title=f"Page {n} 50%_off", created_at=now - timedelta(days=2, hours=n)
        )
        for n in range(4)
    ]
    owner_conn.execute("UPDATE courses SET status = 'archived' WHERE id = %s", (archived.id,))
    owner_conn.execute(  # a whole second, no microseconds: isoformat leaves them out
        "UPDATE courses SET created_at = date_trunc('second', created_at) WHERE id = %s", (hollow.id,)
    )
    owner_conn.execute(
        "UPDATE lessons SET content_ref = NULL, duration_min = 0 WHERE id = %s", (published.lesson_ids[1],)
    )
    owner_conn.execute("UPDATE lessons SET duration_min = 45 WHERE id = %s", (published.lesson_ids[0],))
    owner_conn.execute(  # a quiz of every type (answer keys to hide), one undated, one past due
        "UPDATE assessments SET questions = %s, due_at = NULL, time_limit_min = 30 WHERE id = %s",
        (json.dumps(QUESTIONS), published.assessment_ids[0]),
    )
    owner_conn.execute(
        "UPDATE assessments SET due_at = now() - interval '1 day', max_attempts = NULL WHERE id = %s",
        (archived.assessment_ids[0],),
    )
    student_token = await login(client, student)
    for course in (published, hollow):
        await gql(client, ENROLL, {"c": str(course.id)}, token=student_token)
    for lesson, progress in (
        (published.lesson_ids[0], 100),
        (published.lesson_ids[3], 100),
        (published.lesson_ids[2], 40),
    ):
        await gql(client, PROGRESS, {"l": str(lesson), "p": progress}, token=student_token)
    # Removed content: a module holding a lesson with progress (archived, with that lesson; its
    # other lessons deleted), and a lesson without progress (deleted). Neither path may show them.
    teacher_token = await login(client, teacher)
    for mutation, item in ((DELETE_MODULE, published.module_ids[1]), (DELETE_LESSON, published.lesson_ids[1])):
        removed = await gql(client, mutation, {"id": str(item)}, token=teacher_token)
        assert "errors" not in removed.body, removed.body
    for course in (draft, archived, empty_module):
        await enroll(db, tenant, student.id, course.id)
    # A learning path: the published course requires two others (locked for the student).
    required = [str(others[0].id), str(others[1].id)]
    prerequisites = await gql(
        client, PREREQUISITES, {"c": str(published.id), "r": required}, token=await login(client, people["admin"])
    )
    assert "errors" not in prerequisites.body, prerequisites.body
    # Module and lesson locks: the third module opens once the first is completed (it is not:
    # one of its lessons is at 40 %), the first's last lesson once the one before it is (it is),
    # and a module of another course opens on a date to come.
    owner_conn.execute("UPDATE modules SET requires_previous = true WHERE id = %s", (published.module_ids[2],))
    owner_conn.execute("UPDATE lessons SET requires_previous = true WHERE id = %s", (published.lesson_ids[2],))
    owner_conn.execute("UPDATE modules SET unlock_at = '2999-01-01 00:00+00' WHERE id = %s", (others[2].module_ids[0],))
    owner_conn.execute(
        "UPDATE enrollments SET status = 'dropped' WHERE user_id = %s AND course_id = %s", (student.id, hollow.id)
    )
    owner_conn.execute(
        "UPDATE enrollments SET status = 'completed', progress_pct = 100, completed_at = now() "
        "WHERE user_id = %s AND course_id = %s",
        (student.id, archived.id),
    )
    owner_conn.execute(
        "UPDATE enrollments SET progress_pct = 33.33, last_accessed_at = date_trunc('second', now()) "
        "WHERE user_id = %s AND course_id = %s",
        (student.id, draft.id),
    )
    # Half way between two cents: 1.005 rounds half up to 1.01.
    for course, percent in ((published, "1.00"), (archived, "1.01")):
        await enroll(db, tenant, people["rounder"].id, course.id)
        owner_conn.execute(
            "UPDATE enrollments SET progress_pct = %s WHERE user_id = %s AND course_id = %s",
            (percent, people["rounder"].id, course.id),
        )
    assessment = published.assessment_ids[1]
    for attempt, status, score, passed in ((1, "graded", "7.50", False), (2, "submitted", None, None)):
        owner_conn.execute(
            "INSERT INTO submissions (tenant_id, assessment_id, user_id, attempt_number, answers, score, passed,"
            " status, submitted_at, graded_at, feedback) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, now(), %s, %s)",
            (tenant.id, assessment, student.id, attempt, json.dumps({"q1": True, "é": [1, 2.5, None]}), score,
             passed, status, now if score else None, CONTROL if score else None),
        )  # fmt: skip
    owner_conn.execute(
        "INSERT INTO submissions (tenant_id, assessment_id, user_id, attempt_number, answers, status)"
        " VALUES (%s, %s, %s, 3, '{}', 'in_progress')",
        (tenant.id, assessment, student.id),
    )
    owner_conn.execute(
        "INSERT INTO certificates (tenant_id, user_id, course_id, verification_code) VALUES (%s, %s, %s, %s)",
        (tenant.id, student.id, archived.id, f"CERT-{uuid.uuid4().hex[:12].upper()}"),
    )
    payload = {"pct": 33.33, "n": -5, "z": 0.0, "big": 123456789012345678, "deep": {"k": [True, None, 'é\n"q"']}}
    owner_conn.execute(
        "INSERT INTO domain_events (tenant_id, user_id, event_type, course_id, payload, occurred_at)"
        " VALUES (%s, %s, 'custom.event', NULL, %s, date_trunc('second', now()))",
        (tenant.id, student.id, json.dumps(payload)),
    )
    for title, body, read, notice in (
        (TRICKY, CONTROL, True, {"score": 7.5, "max": 10.0, "who": TRICKY}),
        ("Unread", None, False, {}),
    ):
        owner_conn.execute(
            "INSERT INTO notifications (tenant_id, user_id, event_type, title, body, payload, read_at)"
            " VALUES (%s, %s, 'assessment.graded', %s, %s, %s, CASE WHEN %s THEN now() END)",
            (tenant.id, student.id, title, body, json.dumps(notice), read),
        )
    viewers = {role: Viewer(await login(client, person), tenant.slug) for role, person in people.items()}
    stranger = await make_user(await lifted_tenant(), "student")
    viewers["stranger"] = Viewer(await login(client, stranger), stranger.tenant.slug)
    operator = await make_user(await lifted_tenant(), "super_admin")
    viewers["operator"] = Viewer(await login(client, operator), tenant.slug)
    ids = [str(course.id) for course in (published, draft, archived, hollow, empty_module, *others)]
    return World(viewers, ids, tenant)


# --- fixtures and helpers of the compiled-read tests ------------------------------------


@pytest.fixture
async def apps(db: Database, env_for_cli: dict[str, str]) -> AsyncIterator[tuple[Any, Any]]:
    async with two_apps(db, env_for_cli) as pair:
        yield pair


@pytest.fixture
async def clients(apps: tuple[Any, Any]) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    async with client_of(apps[0]) as compiled, client_of(apps[1]) as interpreted:
        yield compiled, interpreted


@pytest.fixture
async def world(
    apps: tuple[Any, Any],
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient],
    db: Database,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    owner_conn: psycopg.Connection,
) -> World:
    built = await build_world(clients[1], apps, db, make_tenant, make_user, owner_conn)
    page = await ask(
        clients[1], built.viewers["admin"], "{ courses(pagination: {first: 3}) { pageInfo { endCursor } } }", {}
    )
    built.cursors = [page.json()["data"]["courses"]["pageInfo"]["endCursor"], "bad cursor", ""]
    return built


async def ask(client: httpx.AsyncClient, viewer: Viewer, query: str, variables: dict[str, Any]) -> httpx.Response:
    headers = {"Authorization": f"Bearer {viewer.token}", "X-Tenant-ID": viewer.tenant}
    return await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)


async def both(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient], viewer: Viewer, query: str, variables: dict[str, Any]
) -> tuple[httpx.Response, httpx.Response]:
    compiled = await ask(clients[0], viewer, query, variables)
    interpreted = await ask(clients[1], viewer, query, variables)
    assert interpreted.headers.get("x-execution") in ("interpreted", None), interpreted.headers
    return compiled, interpreted


def difference(compiled: httpx.Response, interpreted: httpx.Response) -> str:
    left, right = compiled.text.replace(",", ",\n").splitlines(), interpreted.text.replace(",", ",\n").splitlines()
    return "\n".join(difflib.unified_diff(right, left, "interpreted", "compiled", lineterm="", n=2))


def assert_identical(compiled: httpx.Response, interpreted: httpx.Response, what: Any) -> None:
    assert compiled.status_code == interpreted.status_code, (what, compiled.text[:500], interpreted.text[:500])
    assert compiled.content == interpreted.content, (what, difference(compiled, interpreted))
