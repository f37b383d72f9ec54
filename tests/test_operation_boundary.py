"""What an operation answers at its edges, for HTTP: malformed bodies, input PostgreSQL cannot
store, writes that did not commit, idempotency inside the operation's transaction, and a
database that went away. (Websockets: tests/test_socket_authorisation.py.)"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from lms_graphql.config import Settings
from lms_graphql.kit.db import PING_AFTER_IDLE_SECONDS, Database, DatabaseUrls
from lms_graphql.operations import runner
from tests.support.builders import build_course
from tests.support.database import DatabaseProxy
from tests.support.http import TEST_JWT_KEYS, gql, login
from tests.support.limits import with_limits
from tests.support.people import PersonFactory, TenantFactory

ENROLL = "mutation($c: ID!) { enrollInCourse(courseId: $c) { id } }"


async def test_malformed_requests_are_4xx_with_a_code(client: httpx.AsyncClient, make_tenant: TenantFactory) -> None:
    tenant = await make_tenant()
    headers = {"X-Tenant-ID": tenant.slug, "Content-Type": "application/json"}
    deep: Any = "x"
    for _ in range(500):
        deep = {"a": deep}
    bodies: list[Any] = [
        "just a string",
        42,
        None,
        {"query": 5},
        {"query": "{ tenant { slug } }", "variables": "x"},
        {"query": "{ tenant { slug } }", "variables": [1]},
        {"query": "{ tenant { slug } }", "operationName": 3},
        {"query": "query($v: JSON) { tenant { slug } }", "variables": {"v": deep}},
    ]
    for body in bodies:
        response = await client.post("/graphql", content=json.dumps(body), headers=headers)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    subscription = "subscription { studentNotifications { title } }"
    over_post = await client.post("/graphql", json={"query": subscription}, headers=headers)
    over_get = await client.get("/graphql", params={"query": subscription}, headers=headers)
    for response in (over_post, over_get):
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    mutation_by_get = await client.get("/graphql", params={"query": ENROLL}, headers=headers)
    assert (mutation_by_get.status_code, mutation_by_get.headers["allow"]) == (405, "POST")
    by_get = await client.get("/graphql", params={"query": "{ tenant { slug } }"}, headers=headers)
    assert by_get.json() == {"data": {"tenant": {"slug": tenant.slug}}}


async def test_text_postgresql_cannot_store_is_bad_user_input(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, owner_conn: psycopg.Connection
) -> None:
    tenant = await make_tenant()
    token = await login(client, await make_user(tenant, "admin"))
    create = "mutation($t: String!) { createCourse(input: {title: $t}) { id } }"
    attempts: list[tuple[str, dict[str, Any]]] = [
        (create, {"t": "a\x00b"}),  # a NUL in a variable
        (create, {"t": "fine", "extra": "\x00"}),  # in a variable the document does not declare
        ('mutation { createCourse(input: {title: "a\\u0000b"}) { id } }', {}),  # in a literal
        ('mutation { createCourse(input: {title: "a\\u0000b"}) { id } }', {}),  # again: its check is kept
        ("mutation($t: String!) { createCourse(input: {title: $t}) { id } }", {"t": "ok", "k\x00": 1}),
    ]
    for query, variables in attempts:
        reply = await gql(client, query, variables, token=token)
        assert reply.codes == ["BAD_USER_INPUT"], (query, reply.body)
        assert reply.body.get("data") is None
    stored = owner_conn.execute("SELECT count(*) FROM courses WHERE tenant_id = %s", (tenant.id,)).fetchone()
    assert stored == (0,)
    surrogate = b'{"query": "{ tenant { slug } }", "variables": {"v": "\\ud800"}}'
    response = await client.post(
        "/graphql", content=surrogate, headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    )
    assert response.status_code == 400


async def test_a_write_whose_audit_fails_answers_an_error_and_keeps_nothing(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    db: Database,
    owner_conn: psycopg.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    course = await build_course(db, tenant, teacher.id)
    student = await make_user(tenant)
    token = await login(client, student)

    async def broken_audit(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the audit table is gone")

    monkeypatch.setattr(runner, "record_mutations", broken_audit)
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "audit-fails"}
    first = await client.post("/graphql", json={"query": ENROLL, "variables": {"c": str(course.id)}}, headers=headers)
    assert first.status_code == 500
    assert first.json().get("data") is None
    assert [e["extensions"]["code"] for e in first.json()["errors"]] == ["INTERNAL"]

    def enrollments() -> Any:
        return owner_conn.execute("SELECT count(*) FROM enrollments WHERE user_id = %s", (student.id,)).fetchone()

    assert enrollments() == (0,)
    monkeypatch.undo()
    # Nothing was stored under the key: the retry runs, once.
    retry = await client.post("/graphql", json={"query": ENROLL, "variables": {"c": str(course.id)}}, headers=headers)
    assert (retry.status_code, retry.headers.get("idempotent-replayed")) == (200, None), retry.text
    replay = await client.post("/graphql", json={"query": ENROLL, "variables": {"c": str(course.id)}}, headers=headers)
    assert replay.headers["idempotent-replayed"] == "true"
    assert enrollments() == (1,)


async def test_refusals_that_ran_nothing_are_not_stored_under_a_key(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    db: Database,
    owner_conn: psycopg.Connection,
    app: Any,
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    course = await build_course(db, tenant, teacher.id)
    student = await make_user(tenant)
    token = await login(client, student)
    await with_limits(owner_conn, app, tenant, user_cost_per_minute=1)
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "limited-once"}
    body = {"query": ENROLL, "variables": {"c": str(course.id)}}
    limited = [await client.post("/graphql", json=body, headers=headers) for _ in range(3)]
    assert limited[-1].status_code == 429
    assert "retry-after" in limited[-1].headers
    await with_limits(owner_conn, app, tenant, user_cost_per_minute=1_000_000)
    ran = await client.post("/graphql", json=body, headers=headers)
    assert (ran.status_code, ran.headers.get("idempotent-replayed")) == (200, None), ran.text
    assert "errors" not in ran.json()
    stored = owner_conn.execute(
        "SELECT state, response_status FROM idempotency_keys WHERE user_id = %s", (student.id,)
    ).fetchall()
    assert stored == [("done", 200)]


async def test_a_database_outage_answers_503_retryable(
    database_urls: DatabaseUrls,
    env_for_cli: dict[str, str],
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from lms_graphql.app import create_app

    tenant, elsewhere = await make_tenant(), await make_tenant()
    student = await make_user(tenant)
    # About requests: the job worker's own recovery is tests/test_reminders.py's.
    settings = Settings.from_env({**env_for_cli, "LMS_JWT_KEYS": TEST_JWT_KEYS, "LMS_WORKER": "off"})
    async with DatabaseProxy(database_urls.app) as proxy:
        db = Database(proxy.url, pool_size=2)
        application = create_app(settings, db=db)
        try:
            async with application.router.lifespan_context(application):
                transport = httpx.ASGITransport(app=application)
                async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                    token = await login(client, student)
                    assert (await gql(client, "{ me { id } }", token=token)).status == 200
                    await proxy.cut()
                    with caplog.at_level(logging.WARNING):
                        login_document = 'mutation { login(email: "a@b.example", password: "p") { token } }'
                        replies = [
                            await client.post("/graphql", json={"query": query}, headers=h)
                            for query, h in (
                                ("{ me { id } }", {"Authorization": f"Bearer {token}"}),  # the viewer's row
                                (login_document, {"X-Tenant-ID": tenant.slug}),  # inside a resolver
                                ("{ me { id } }", {"X-Tenant-ID": elsewhere.slug}),  # the registry's lookup
                            )
                        ]
                    for reply in replies:
                        assert reply.status_code == 503, reply.text
                        assert reply.headers["retry-after"] == "5"
                        (error,) = reply.json()["errors"]
                        assert error["extensions"]["retryable"] is True
                        assert error["extensions"]["code"] == "INTERNAL"
                    assert "Traceback" not in caplog.text
        finally:
            await db.dispose()


async def test_a_pooled_connection_closed_while_idle_is_replaced_before_use(
    database_urls: DatabaseUrls, make_tenant: TenantFactory, owner_conn: psycopg.Connection
) -> None:
    tenant = await make_tenant()
    db = Database(database_urls.app, pool_size=1, max_overflow=0)

    async def backend() -> int:
        async with db.tenant_transaction(tenant.id) as session:
            return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())

    def terminate(pid: int) -> None:
        owner_conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
        while owner_conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
            time.sleep(0.01)

    try:
        # Idle past PING_AFTER_IDLE_SECONDS: pinged at checkout, found dead, replaced.
        first = await backend()
        terminate(first)
        await asyncio.sleep(PING_AFTER_IDLE_SECONDS + 0.1)
        second = await backend()
        assert second != first
        # In steady use it is not pinged: the binding, the transaction's first statement, meets
        # it; nothing ran yet, so the transaction begins again on a new connection.
        terminate(second)
        assert await backend() not in (first, second)
    finally:
        await db.dispose()


async def test_the_commit_is_checked_not_assumed(db: Database, make_tenant: TenantFactory) -> None:
    from lms_graphql.kit.transaction import CommitFailed, RequestTransaction

    tenant = await make_tenant()
    tx = RequestTransaction(db, tenant.id)
    async with tx.use() as session:
        with pytest.raises(Exception, match="invalid input syntax"):
            async with session.begin_nested():
                await session.execute(text("SELECT 'not a uuid'::uuid"))
    await tx.commit()  # a failed savepoint leaves the transaction usable
    tx = RequestTransaction(db, tenant.id)
    async with tx.use() as session:
        session.add(_broken_row(tenant.id))
        with pytest.raises(Exception, match="null value"):
            await session.flush()
    with pytest.raises(CommitFailed):
        await tx.commit()


def _broken_row(tenant_id: uuid.UUID) -> Any:
    from lms_graphql import models

    return models.AuditEntry(tenant_id=tenant_id, actor_tenant_id=tenant_id, action=None, details={})


async def test_a_failed_root_field_does_not_break_its_siblings(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    # tenantOverview is non-null and FORBIDDEN for a student: graphql-core cancels the sibling
    # field while its statement runs; the statement still finishes, so the transaction holds.
    tenant = await make_tenant()
    token = await login(client, await make_user(tenant))
    for _ in range(5):
        reply = await gql(
            client, "{ myDashboard { certificatesEarned } tenantOverview { completionRate } }", token=token
        )
        assert reply.status == 200, reply.body
        assert reply.codes == ["FORBIDDEN"]
        assert (await gql(client, "{ me { role } }", token=token)).data == {"me": {"role": "STUDENT"}}


async def test_mutations_in_root_fragments_are_audited_and_ambiguous_documents_refused(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, owner_conn: psycopg.Connection
) -> None:
    tenant = await make_tenant()
    admin, other = await make_user(tenant, "admin"), await make_user(tenant)
    token = await login(client, admin)
    rename = 'updateUser(id: $id, input: {fullName: "Renamed"}) { id }'
    documents = [
        f"mutation($id: ID!) {{ {rename} }}",
        f"mutation($id: ID!) {{ ... on Mutation {{ {rename} }} }}",
        f"mutation($id: ID!) {{ ...F }} fragment F on Mutation {{ {rename} }}",
        f"mutation($id: ID!, $no: Boolean!) {{ ... on Mutation @include(if: $no) {{ {rename} }} a: {rename} }}",
    ]
    for document in documents:
        reply = await gql(client, document, {"id": str(other.id), "no": False}, token=token)
        assert "errors" not in reply.body, reply.body
    audited = owner_conn.execute(
        "SELECT count(*) FROM audit_log WHERE tenant_id = %s AND action = 'updateUser'", (tenant.id,)
    ).fetchone()
    assert audited == (4,)
    two = f"mutation M($id: ID!) {{ {rename} }} query Q {{ me {{ id }} }}"
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "two-operations"}
    response = await client.post("/graphql", json={"query": two, "variables": {"id": str(other.id)}}, headers=headers)
    assert response.status_code == 400
    assert "operationName" in response.json()["errors"][0]["message"]


async def test_a_failed_statement_outside_a_savepoint_cannot_commit(db: Database, make_tenant: TenantFactory) -> None:
    from sqlalchemy import text

    from lms_graphql.kit.transaction import CommitFailed, RequestTransaction

    tenant = await make_tenant()
    tx = RequestTransaction(db, tenant.id)
    async with tx.use() as session:
        with pytest.raises(DBAPIError):
            await session.execute(text("SELECT 'not a uuid'::uuid"))
    # SQLAlchemy still thinks the transaction is fine; PostgreSQL would answer COMMIT with ROLLBACK.
    with pytest.raises(CommitFailed):
        await tx.commit()


async def test_live_feed_reads_have_a_statement_timeout(app: Any, make_tenant: TenantFactory) -> None:
    from sqlalchemy import text

    tenant = await make_tenant()
    live_db: Database = app.state.services.live._db
    async with live_db.tenant_transaction(tenant.id) as session:
        assert (await session.execute(text("SHOW statement_timeout"))).scalar() == "2s"
