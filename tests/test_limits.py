"""Limits at their edges, the HTTP surface, noisy-neighbour guards, idempotency, the audit log."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import psycopg
import pytest
from graphql import GraphQLError
from psycopg import errors
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from lms_graphql.kit.db import Database
from lms_graphql.kit.graphql import coded_errors
from tests.support.builders import build_course
from tests.support.http import LOGIN, gql, login
from tests.support.limits import deep, shape_of, tokens_in, with_limits
from tests.support.people import PASSWORD, PersonFactory, TenantFactory


async def test_each_limit_at_its_edge(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    owner_conn: psycopg.Connection,
    app: Any,
) -> None:
    tenant = await make_tenant()
    token = await login(client, await make_user(tenant, "admin"))

    async def refused(query: str) -> list[str]:
        reply = await gql(client, query, token=token)
        return [code for code in reply.codes if code == "QUERY_TOO_COMPLEX"]

    await with_limits(owner_conn, app, tenant, max_cost=10**9)  # deep queries through lists cost a lot too
    at_depth = next(n for n in range(2, 20) if shape_of(deep(n)).depth == 10)  # the free plan allows 10
    assert await refused(deep(at_depth)) == []
    assert shape_of(deep(at_depth + 1)).depth == 11
    assert await refused(deep(at_depth + 1)) == ["QUERY_TOO_COMPLEX"]

    def aliases(n: int) -> str:
        return "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(n)) + " }"

    assert await refused(aliases(15)) == []
    assert await refused(aliases(16)) == ["QUERY_TOO_COMPLEX"]

    def many_ids(n: int) -> str:
        return "{ me { " + " ".join(["id"] * n) + " } }"

    at_limit = next(n for n in range(1990, 2000) if tokens_in(many_ids(n)) == 2000)
    assert await refused(many_ids(at_limit)) == []
    assert await refused(many_ids(at_limit + 1)) == ["QUERY_TOO_COMPLEX"]

    catalogue = (
        "{ courses(pagination: {first: 50}) { edges { node { id title modules { id lessons { id title } } } } } }"
    )
    cost = shape_of(catalogue).cost
    await with_limits(owner_conn, app, tenant, max_cost=cost)
    assert await refused(catalogue) == []
    await with_limits(owner_conn, app, tenant, max_cost=cost - 1)
    reply = await gql(client, catalogue, token=token)
    assert reply.codes == ["QUERY_TOO_COMPLEX"]
    assert reply.body["errors"][0]["extensions"]["cost"] == cost


async def test_the_http_surface(client: httpx.AsyncClient, make_tenant: TenantFactory) -> None:
    tenant = await make_tenant()
    headers = {"X-Tenant-ID": tenant.slug}

    async def post(content: bytes, content_type: str = "application/json") -> httpx.Response:
        return await client.post("/graphql", content=content, headers={**headers, "Content-Type": content_type})

    huge = await post(b'{"query": "' + b"x" * (20 * 1024 * 1024) + b'"}')
    assert huge.status_code == 413
    assert huge.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    form = await post(b"query={tenant{slug}}", "application/x-www-form-urlencoded")
    assert form.status_code == 415
    assert (await post(b'{"query": "{ tenant { slug } }"}', "text/plain")).status_code == 415
    broken = await post(b'{"query": ')
    assert (broken.status_code, broken.json()["errors"][0]["message"]) == (400, "the request body is not valid JSON")
    batch = await post(json.dumps([{"query": "{ tenant { slug } }"}] * 2).encode())
    assert batch.status_code == 400
    assert "batched" in batch.json()["errors"][0]["message"]
    big_list = {"query": "query($v: [ID!]) { tenant { slug } }", "variables": {"v": ["x"] * 1001}}
    assert (await post(json.dumps(big_list).encode())).status_code == 400
    mutation_by_get = await client.get(
        "/graphql", params={"query": 'mutation { login(email: "a@b.c", password: "x") { token } }'}, headers=headers
    )
    assert mutation_by_get.status_code in (400, 405)
    assert mutation_by_get.json()["errors"]
    for response in (huge, form, broken, batch, mutation_by_get):
        assert len(response.headers["x-request-id"]) >= 8
    fine = await post(b'{"query": "{ tenant { slug } }"}', "application/json; charset=utf-8")
    assert fine.json() == {"data": {"tenant": {"slug": tenant.slug}}}
    assert fine.headers["x-query-cost"] == "2"


async def test_rate_limits_isolate_tenants(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    owner_conn: psycopg.Connection,
    app: Any,
) -> None:
    noisy, quiet = await make_tenant(), await make_tenant()
    await with_limits(owner_conn, app, noisy, tenant_cost_per_minute=6)
    noisy_token = await login(client, await make_user(noisy))
    quiet_token = await login(client, await make_user(quiet))
    replies = [await gql(client, "{ me { id } }", token=noisy_token) for _ in range(5)]
    limited = [r for r in replies if r.codes == ["RATE_LIMITED"]]
    assert limited
    assert all(r.status == 429 for r in limited)
    response = await client.post(
        "/graphql", json={"query": "{ me { id } }"}, headers={"Authorization": f"Bearer {noisy_token}"}
    )
    assert int(response.headers["retry-after"]) >= 1
    assert "x-ratelimit-remaining" in response.headers
    for _ in range(5):
        assert (await gql(client, "{ me { id } }", token=quiet_token)).status == 200


async def test_login_is_throttled_per_account_and_address(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    tenant = await make_tenant()
    person = await make_user(tenant)
    codes = [
        (await gql(client, LOGIN, {"e": person.email, "p": "wrong password"}, tenant=tenant.slug)).codes[0]
        for _ in range(11)
    ]
    assert codes[:10] == ["UNAUTHENTICATED"] * 10
    assert codes[10] == "RATE_LIMITED"
    other = await make_user(tenant)
    assert await login(client, other)  # another account is not locked out


async def test_statement_timeout_ends_a_slow_query_with_a_retryable_error(
    db: Database, make_tenant: TenantFactory
) -> None:
    tenant = await make_tenant()
    with pytest.raises(DBAPIError) as caught:
        async with db.tenant_transaction(tenant.id, statement_timeout_ms=100) as session:
            await session.execute(text("SELECT pg_sleep(2)"))
    assert isinstance(caught.value.orig, errors.QueryCanceled)
    (coded,) = coded_errors([GraphQLError("x", original_error=caught.value)], "req-1")
    assert coded.extensions == {"code": "QUERY_TOO_COMPLEX", "retryable": True}
    assert "pg_sleep" not in coded.message
    async with db.tenant_transaction(tenant.id, statement_timeout_ms=100) as session:
        assert (await session.execute(text("SHOW statement_timeout"))).scalar() == "100ms"
    async with db.tenant_transaction(tenant.id) as session:
        assert (await session.execute(text("SHOW statement_timeout"))).scalar() == "0"


ENROLL = "mutation($c: ID!) { enrollInCourse(courseId: $c) { id } }"


async def test_idempotency_replay_conflict_and_race(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    db: Database,
    owner_conn: psycopg.Connection,
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    first, second = await build_course(db, tenant, teacher.id), await build_course(db, tenant, teacher.id)
    student = await make_user(tenant)
    token = await login(client, student)

    async def enroll(course: uuid.UUID, key: str) -> httpx.Response:
        return await client.post(
            "/graphql",
            json={"query": ENROLL, "variables": {"c": str(course)}},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
        )

    original = await enroll(first.id, "key-1")
    replay = await enroll(first.id, "key-1")
    assert replay.json() == original.json()
    assert replay.headers["idempotent-replayed"] == "true"
    conflict = await enroll(second.id, "key-1")
    assert (conflict.status_code, conflict.json()["errors"][0]["extensions"]["code"]) == (409, "CONFLICT")
    racing = await asyncio.gather(*[enroll(second.id, "key-2") for _ in range(8)])
    bodies = [r.json() for r in racing if r.status_code == 200]
    assert bodies
    assert all(body == bodies[0] for body in bodies)
    assert all(r.status_code in (200, 409) for r in racing)
    enrolled = owner_conn.execute("SELECT count(*) FROM enrollments WHERE user_id = %s", (student.id,)).fetchone()
    events = owner_conn.execute(
        "SELECT count(*) FROM domain_events WHERE user_id = %s AND event_type = 'student.enrolled'", (student.id,)
    ).fetchone()
    assert (enrolled, events) == ((2,), (2,))  # each executed once
    assert (await enroll(first.id, "\x01bad")).status_code == 400
    # A key left "running" by a process that died is given up after a while, then runs.
    owner_conn.execute(
        "INSERT INTO idempotency_keys (tenant_id, user_id, key, request_hash, state, created_at)"
        " VALUES (%s, %s, 'key-3', 'x', 'running', now() - interval '1 hour')",
        (tenant.id, student.id),
    )
    third = await build_course(db, tenant, teacher.id)
    revived = await enroll(third.id, "key-3")
    assert revived.status_code == 200
    assert "errors" not in revived.json()


AUDIT = "{ auditLog(first: 50) { edges { node { action outcome actorUserId details } } hasNextPage } }"


async def test_every_mutation_is_audited_for_the_tenants_admins(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    tenant, other = await make_tenant(), await make_tenant()
    admin = await make_user(tenant, "admin")
    person = await make_user(tenant)
    await gql(client, LOGIN, {"e": person.email, "p": "wrong password"}, tenant=tenant.slug)
    student = await login(client, person)
    await gql(
        client,
        'mutation { changePassword(currentPassword: "nope", newPassword: "long enough") { token } }',
        token=student,
    )
    admin_token = await login(client, admin)
    entries = (await gql(client, AUDIT, token=admin_token)).data["auditLog"]["edges"]
    seen = [(e["node"]["action"], e["node"]["outcome"]) for e in entries]
    assert ("login", "UNAUTHENTICATED") in seen
    assert ("login", "OK") in seen
    assert ("changePassword", "BAD_USER_INPUT") in seen
    assert PASSWORD not in json.dumps(entries)
    assert "wrong password" not in json.dumps(entries)
    failed_login = next(e["node"] for e in entries if e["node"]["outcome"] == "UNAUTHENTICATED")
    assert failed_login["details"]["variables"]["p"] == "[redacted]"
    assert (await gql(client, AUDIT, token=student)).codes == ["FORBIDDEN"]
    foreign_admin = await login(client, await make_user(other, "admin"))
    theirs = (await gql(client, AUDIT, token=foreign_admin)).data["auditLog"]["edges"]
    assert all(e["node"]["actorUserId"] != str(person.id) for e in theirs)


async def test_a_tenant_holds_at_most_its_share_of_connections(db: Database, make_tenant: TenantFactory) -> None:
    from lms_graphql.kit.transaction import RequestTransaction

    tenant = await make_tenant()
    gate = asyncio.Semaphore(1)
    first = RequestTransaction(db, tenant.id, gate=gate)
    second = RequestTransaction(db, tenant.id, gate=gate)
    async with first.use() as session:
        await session.execute(text("SELECT 1"))
    waiting = asyncio.ensure_future(_open(second))
    await asyncio.sleep(0.2)
    assert not waiting.done()  # the tenant's one slot is taken until the first request ends
    await first.commit()
    await asyncio.wait_for(waiting, 5)
    await second.commit()
    assert not gate.locked()


async def _open(transaction: Any) -> None:
    async with transaction.use() as session:
        await session.execute(text("SELECT 1"))


COURSE_IDS = "edges { node { id } }"
# Each of these makes graphql-core suggest a name from the schema: a field, an argument, an
# input field (literal and variable), a type in a variable definition, an enum value (literal
# and variable), a selection missing on an object field.
SUGGESTION_BAIT: list[tuple[str, dict[str, Any] | None]] = [
    ("{ tenat { slug } }", None),
    (f"{{ courses(statu: DRAFT) {{ {COURSE_IDS} }} }}", None),
    (f"{{ courses(pagination: {{frist: 1}}) {{ {COURSE_IDS} }} }}", None),
    (f"query($p: PaginationInput) {{ courses(pagination: $p) {{ {COURSE_IDS} }} }}", {"p": {"frist": 1}}),
    (f"query($s: CourseStatu) {{ courses(status: $s) {{ {COURSE_IDS} }} }}", None),
    (f"{{ courses(status: PUBLISHD) {{ {COURSE_IDS} }} }}", None),
    (f"query($s: CourseStatus) {{ courses(status: $s) {{ {COURSE_IDS} }} }}", {"s": "PUBLISHD"}),
    ("{ courses }", None),
]


async def test_introspection_and_suggestions_can_be_switched_off(
    db: Database, make_tenant: TenantFactory, env_for_cli: dict[str, str], client: httpx.AsyncClient
) -> None:
    from lms_graphql.app import create_app
    from lms_graphql.config import Settings
    from tests.support.http import TEST_JWT_KEYS

    tenant = await make_tenant()
    settings = Settings.from_env(
        {**env_for_cli, "LMS_JWT_KEYS": TEST_JWT_KEYS, "LMS_INTROSPECTION": "false", "LMS_GRAPHIQL": "false"}
    )
    application = create_app(settings, db=db)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as closed:
            for query, variables in SUGGESTION_BAIT:
                typo = await gql(closed, query, variables, tenant=tenant.slug)
                assert typo.codes == ["BAD_USER_INPUT"], (query, typo.body)
                assert "Did you mean" not in json.dumps(typo.body), (query, typo.body)
                # The open schema does suggest: the bait is real.
                assert "Did you mean" in json.dumps((await gql(client, query, variables, tenant=tenant.slug)).body)
            introspection = await gql(closed, "{ __schema { types { name } } }", tenant=tenant.slug)
            assert introspection.body.get("data") is None
            assert (await closed.get("/graphql", headers={"Accept": "text/html"})).status_code == 404


async def test_cached_documents_still_report_their_errors_and_large_ones_are_not_kept(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    from lms_graphql.kit import graphql as kit

    token = await login(client, await make_user(await make_tenant()))
    for _ in range(2):  # the second answer comes from the caches
        reply = await gql(client, "{ me { id nope } }", token=token)
        assert reply.codes == ["BAD_USER_INPUT"]
        assert (await gql(client, "{ me { id } }", token=token)).data["me"]["id"]
    huge = "{ me { id } }\n# " + "x" * kit.CACHED_DOCUMENT_CHARS  # a long comment: few tokens
    before = len(kit._parsed)
    assert (await gql(client, huge, token=token)).data["me"]["id"]
    assert len(kit._parsed) == before
