"""Limits at their edges, noisy-neighbour guards (rate limits, statement timeouts, the pool
share), sign-in throttling, introspection switched off, the document caches."""

from __future__ import annotations

import asyncio
import json
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
from tests.support.http import LOGIN, gql, login
from tests.support.limits import deep, shape_of, tokens_in, with_limits
from tests.support.people import PersonFactory, TenantFactory
from tests.support.waiting import until


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


async def test_a_tenant_holds_at_most_its_share_of_connections(db: Database, make_tenant: TenantFactory) -> None:
    from lms_graphql.kit.transaction import RequestTransaction

    tenant = await make_tenant()
    gate = asyncio.Semaphore(1)
    first = RequestTransaction(db, tenant.id, gate=gate)
    second = RequestTransaction(db, tenant.id, gate=gate)
    async with first.use() as session:
        await session.execute(text("SELECT 1"))
    waiting = asyncio.ensure_future(_open(second))
    await until(lambda: gate._waiters)  # the second request queues for the tenant's one slot
    assert not waiting.done()  # ... which stays taken until the first request ends
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
