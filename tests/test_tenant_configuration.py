"""Tenant configuration: admins brand and set up their organisation and switch their plan's
features; operators change plans, seats, flags and limits. Disabled features refuse, FORBIDDEN,
everywhere (GraphQL, REST, websockets), and every server hears of a change at once."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest

from lms_graphql.kit.db import Database
from lms_graphql.storage.backends import Storage
from tests.support.http import gql, login
from tests.support.people import PASSWORD, Person, PersonFactory, TenantFactory
from tests.support.quizzes import QUESTIONS, classroom, learner
from tests.support.scenes import NOTIFICATION_FEED
from tests.support.servers import live_server, subscribed
from tests.test_live import close_code

CONFIGURE = """mutation($i: ConfigureTenantInput!) { configureTenant(input: $i) {
  name features availableFeatures branding settings { timezone locale supportEmail } } }"""
PLAN = """mutation($t: ID!, $i: UpdateTenantPlanInput!) { updateTenantPlan(id: $t, input: $i) {
  plan maxUsers features limits { maxCost tenantCostPerMinute } } }"""
TENANT = "{ tenant { name features availableFeatures branding limits { maxCost } } }"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_admins_brand_and_set_up_their_organisation_within_their_plan(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, owner_conn: psycopg.Connection
) -> None:
    tenant = await make_tenant()
    admin = await login(client, await make_user(tenant, "admin"))
    student = await login(client, await make_user(tenant))
    changes = {
        "name": "  Polytechnic  ",
        "primaryColor": "#1A73E8",
        "accentColor": "#ff9900",
        "timezone": "Europe/Paris",
        "locale": "pt-BR",
        "supportEmail": "Help@Poly.example",
    }
    configured = (await gql(client, CONFIGURE, {"i": changes}, token=admin)).data["configureTenant"]
    assert configured["name"] == "Polytechnic"
    assert configured["branding"] == {"primaryColor": "#1a73e8", "accentColor": "#ff9900"}
    assert configured["settings"] == {
        "timezone": "Europe/Paris",
        "locale": "pt-BR",
        "supportEmail": "help@poly.example",
    }
    assert configured["features"] == configured["availableFeatures"] == ["certificates", "live_updates", "rest_api"]
    cleared = (await gql(client, CONFIGURE, {"i": {"accentColor": None, "locale": None}}, token=admin)).data
    assert cleared["configureTenant"]["branding"] == {"primaryColor": "#1a73e8"}
    assert cleared["configureTenant"]["settings"]["locale"] is None

    assert (await gql(client, CONFIGURE, {"i": {"name": "x"}}, token=student)).codes == ["FORBIDDEN"]
    for bad in ({"primaryColor": "red"}, {"timezone": "Mars/Olympus"}, {"name": " "}, {"features": ["teleport"]}):
        assert (await gql(client, CONFIGURE, {"i": bad}, token=admin)).codes == ["BAD_USER_INPUT"], bad
    beyond = await gql(client, CONFIGURE, {"i": {"features": ["peer_review"]}}, token=admin)
    assert beyond.codes == ["FORBIDDEN"]
    audit = owner_conn.execute(
        "SELECT count(*) FROM audit_log WHERE tenant_id = %s AND action = 'tenant.configure'", (tenant.id,)
    ).fetchone()
    assert audit == (2,)


async def test_a_logo_is_uploaded_checked_and_served_signed(
    app: Any, client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    tenant = await make_tenant()
    admin = await login(client, await make_user(tenant, "admin"))
    request = """mutation($t: String!, $s: Int!) { requestLogoUpload(contentType: $t, sizeBytes: $s) {
      fileId url method headers } }"""
    refused = await gql(client, request, {"t": "application/pdf", "s": 10}, token=admin)
    assert refused.codes == ["BAD_USER_INPUT"]
    logos = []
    for _ in range(2):
        ticket = (await gql(client, request, {"t": "image/png", "s": len(PNG)}, token=admin)).data["requestLogoUpload"]
        sent = await client.request(ticket["method"], ticket["url"], content=PNG, headers=ticket["headers"])
        assert sent.status_code == 201
        confirm = "mutation($f: ID!) { confirmLogoUpload(fileId: $f) { branding } }"
        branding = (await gql(client, confirm, {"f": ticket["fileId"]}, token=admin)).data["confirmLogoUpload"]
        logos.append(branding["branding"]["logoUrl"])
    shown = (await gql(client, TENANT, tenant=tenant.slug)).data["tenant"]["branding"]["logoUrl"]
    assert (await client.get(shown)).content == PNG
    storage: Storage = app.state.services.storage
    from tests.support.content import run_jobs

    await run_jobs(app.state.services.db, storage)
    assert (await client.get(logos[0])).status_code == 404  # replaced: the first is gone


async def test_disabled_features_refuse_and_leave_the_capability_list(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    room = await classroom(client, make_tenant, make_user, db)
    slug = room.teacher.tenant.slug
    admin = await login(client, await make_user(room.teacher.tenant, "admin"))
    _, token = await learner(client, make_user, room)
    off = await gql(client, CONFIGURE, {"i": {"features": ["live_updates"]}}, token=admin)
    assert off.data["configureTenant"]["features"] == ["live_updates"]
    assert (await gql(client, TENANT, tenant=slug)).data["tenant"]["features"] == ["live_updates"]

    rest = await client.get("/api/v1/courses", headers=bearer(token))
    assert (rest.status_code, rest.json()["code"]) == (403, "FORBIDDEN")
    assert "rest_api" in rest.json()["detail"]
    verify = await gql(client, 'query { verifyCertificate(code: "x") { learnerName } }', tenant=slug)
    assert verify.codes == ["FORBIDDEN"]
    create = """mutation($i: CreateAssessmentInput!) { createAssessment(input: $i) { id } }"""
    peer = {"courseId": str(room.course_id), "title": "Review", "assessmentType": "PEER_REVIEW"}
    assert (await gql(client, create, {"i": peer}, token=room.teacher_token)).codes == ["FORBIDDEN"]

    progress = "mutation($l: ID!, $p: Int!) { updateLessonProgress(lessonId: $l, progress: $p) { progressPct } }"
    assert (await gql(client, progress, {"l": str(room.lesson_ids[0]), "p": 100}, token=token)).data
    earned = await gql(client, "{ myDashboard { certificates { verificationCode } } }", token=token)
    assert earned.data["myDashboard"]["certificates"] == []  # completed, but certificates are off

    on = await gql(client, CONFIGURE, {"i": {"features": ["rest_api", "certificates", "live_updates"]}}, token=admin)
    assert on.data["configureTenant"]["features"] == ["certificates", "live_updates", "rest_api"]
    assert (await client.get("/api/v1/courses", headers=bearer(token))).status_code == 200


async def test_operators_change_plans_seats_flags_and_limits(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    operator = await login(client, await make_user(await make_tenant(plan="enterprise"), "super_admin"))
    room = await classroom(client, make_tenant, make_user, db)
    tenant = room.teacher.tenant
    admin = await login(client, await make_user(tenant, "admin"))
    target = str(tenant.id)
    assert (await gql(client, PLAN, {"t": target, "i": {"plan": "pro"}}, token=admin)).codes == ["FORBIDDEN"]

    upgraded = (await gql(client, PLAN, {"t": target, "i": {"plan": "pro"}}, token=operator)).data["updateTenantPlan"]
    assert upgraded["features"] == ["certificates", "live_updates", "rest_api", "peer_review"]
    create = """mutation($i: CreateAssessmentInput!) { createAssessment(input: $i) { id } }"""
    peer = {"courseId": str(room.course_id), "title": "Review", "assessmentType": "PEER_REVIEW", "questions": QUESTIONS}
    assert (await gql(client, create, {"i": peer}, token=room.teacher_token)).data["createAssessment"]["id"]

    changed = await gql(
        client,
        PLAN,
        {"t": target, "i": {"maxUsers": 2, "features": ["rest_api"], "limits": {"max_cost": 1234}}},
        token=operator,
    )
    assert changed.data["updateTenantPlan"] == {
        "plan": "pro",
        "maxUsers": 2,
        "features": ["rest_api"],
        "limits": {"maxCost": 1234, "tenantCostPerMinute": 5_000_000},
    }
    full = await gql(
        client,
        "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
        {"i": {"email": "late@uni.example", "fullName": "Late", "role": "STUDENT", "password": PASSWORD}},
        token=admin,
    )
    assert full.codes == ["TENANT_USER_LIMIT"]
    for bad in ({"plan": "platinum"}, {"features": ["teleport"]}, {"limits": {"max_cost": 0}}, {"limits": {"x": 1}}):
        assert (await gql(client, PLAN, {"t": target, "i": bad}, token=operator)).codes == ["BAD_USER_INPUT"], bad
    back = await gql(client, PLAN, {"t": target, "i": {"limits": None}}, token=operator)
    assert back.data["updateTenantPlan"]["limits"]["maxCost"] == 50_000


@pytest.mark.parametrize("placement", ["bridge", "silo"])
async def test_a_placed_tenant_is_configured_in_its_home_too(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, db: Database, placement: str
) -> None:
    tenant = await make_tenant(placement=placement)
    admin = await login(client, await make_user(tenant, "admin"))
    from tests.support.builders import build_course

    teacher = await make_user(tenant, "instructor")
    course = await build_course(db, tenant, teacher.id, modules=1, lessons=1)
    student = await make_user(tenant)
    token = await login(client, student)
    assert (await gql(client, CONFIGURE, {"i": {"features": ["rest_api"]}}, token=admin)).data
    await gql(client, "mutation($c: ID!) { enrollInCourse(courseId: $c) { id } }", {"c": str(course.id)}, token=token)
    progress = "mutation($l: ID!, $p: Int!) { updateLessonProgress(lessonId: $l, progress: $p) { progressPct } }"
    assert (await gql(client, progress, {"l": str(course.lesson_ids[0]), "p": 100}, token=token)).data
    earned = await gql(client, "{ myDashboard { certificates { verificationCode } } }", token=token)
    assert earned.data["myDashboard"]["certificates"] == []  # the home's copy says: off


async def test_every_server_hears_of_a_change_at_once(
    client: httpx.AsyncClient, env_for_cli: dict[str, str], make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    tenant = await make_tenant()
    admin_person: Person = await make_user(tenant, "admin")
    admin = await login(client, admin_person)
    with live_server(env_for_cli) as server:
        seen = await server.gql(TENANT, None, **{"X-Tenant-ID": tenant.slug})
        assert "live_updates" in seen["data"]["tenant"]["features"]  # cached there now
        token = await server.login(tenant.slug, admin_person.email, PASSWORD)
        async with subscribed(server, token, NOTIFICATION_FEED) as open_feed:
            off = await gql(client, CONFIGURE, {"i": {"features": ["rest_api"], "name": "Renamed"}}, token=admin)
            assert off.data
            await open_feed.wait_for(1, timeout=5)  # its socket closes: live updates are off
        assert close_code(open_feed.error) == 4403, repr(open_feed.error)
        seen = await server.gql(TENANT, None, **{"X-Tenant-ID": tenant.slug})
        assert (seen["data"]["tenant"]["name"], seen["data"]["tenant"]["features"]) == ("Renamed", ["rest_api"])
        async with subscribed(server, token, NOTIFICATION_FEED) as feed:
            await feed.wait_for(1, timeout=5)
        assert "FORBIDDEN" in str(feed.error) or "live_updates" in str(feed.error)
