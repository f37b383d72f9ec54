"""Compiled reads: the same bytes as the ordinary path, for every document of the corpus and
every kind of viewer; one statement for a whole dashboard; and the ordinary path for what
cannot be compiled (or not proven equal)."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg

from lms_graphql.compiled.execution import is_utc
from lms_graphql.kit.db import Database
from tests.support.builders import count_statements
from tests.support.compiled_corpus import BENCH_DASHBOARD, CATALOGUE_FULL, CORPUS, COURSE_FIELDS
from tests.support.compiled_world import Viewer, World, apps, ask, assert_identical, both, clients, world
from tests.support.database import OwnedDatabaseUrls, libpq_url

__all__ = ["apps", "clients", "world"]  # fixtures


async def test_the_corpus_is_compiled_and_answers_the_same_bytes(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient], world: World
) -> None:
    for query, variables in CORPUS:
        for role, viewer in world.viewers.items():
            compiled, interpreted = await both(clients, viewer, query, variables)
            assert compiled.headers["x-execution"] == "compiled", (role, query, compiled.text[:300])
            assert "errors" not in compiled.json(), (role, query, compiled.text[:300])
            assert_identical(compiled, interpreted, (role, query, variables))


async def test_pages_follow_each_other_with_the_same_cursors(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient], world: World
) -> None:
    for role in ("student", "instructor", "admin"):
        viewer, after, seen = world.viewers[role], None, 0
        while True:
            variables = {"p": {"first": 2, "after": after}}
            compiled, interpreted = await both(clients, viewer, CATALOGUE_FULL, variables)
            assert compiled.headers["x-execution"] == "compiled"
            assert_identical(compiled, interpreted, (role, variables))
            page = compiled.json()["data"]["courses"]
            seen += len(page["edges"])
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert seen == page["totalCount"] > 2


async def test_one_course_is_compiled_when_visible_and_not_found_as_always_otherwise(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient], world: World
) -> None:
    query = "query($c: ID!) { course(id: $c) {" + COURSE_FIELDS + "} again: course(id: $c) { id } }"
    for role, viewer in world.viewers.items():
        for course_id in [*world.course_ids, "not-an-id", "00000000-0000-0000-0000-000000000000"]:
            compiled, interpreted = await both(clients, viewer, query, {"c": course_id})
            assert_identical(compiled, interpreted, (role, course_id))
            found = (compiled.json().get("data") or {}).get("course") is not None
            assert compiled.headers["x-execution"] == ("compiled" if found else "interpreted"), (role, course_id)


async def test_a_whole_dashboard_is_one_statement(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient], world: World, db: Database, apps: tuple[Any, Any]
) -> None:
    viewer = world.viewers["student"]
    for client in clients:
        await ask(client, viewer, "{ __typename }", {})  # the tenant registry caches the tenant
    for app in apps:
        await app.state.services.relay.idle()  # the relay's own statements are not the request's
    counts, seen = [], []
    for client in clients:
        with count_statements(db.engine) as statements:
            reply = await ask(client, viewer, BENCH_DASHBOARD, {})
        assert reply.status_code == 200
        counts.append(len(statements))
        seen.append([s[:90] for s in statements])
    # tenant binding, the viewer, then the dashboard: one statement compiled, eight not
    assert counts == [3, 8], (counts, seen)


QUERIES_THAT_FALL_BACK: list[tuple[str, dict[str, Any]]] = [
    # a root field that is not compiled beside one that is
    ("{ me { id } myDashboard { overallProgress } }", {}),
    # arguments the resolver refuses: its error, as it words it
    ("query($q: String) { courses(search: $q) { totalCount } }", {"q": "x" * 201}),
    ("{ courses(pagination: {first: 101}) { totalCount } }", {}),
    ('{ courses(pagination: {after: "not a cursor"}) { totalCount } }', {}),
    # a variable that does not coerce
    ("query($p: PaginationInput) { courses(pagination: $p) { totalCount } }", {"p": {"first": "x"}}),
    # introspection
    ("{ myDashboard { __typename } __schema { queryType { name } } }", {}),
]


async def test_what_is_not_compiled_runs_as_always(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient], world: World
) -> None:
    for query, variables in QUERIES_THAT_FALL_BACK:
        compiled, interpreted = await both(clients, world.viewers["student"], query, variables)
        assert compiled.headers.get("x-execution") in ("interpreted", None), (query, compiled.text[:300])
        assert_identical(compiled, interpreted, query)


async def test_signed_out_requests_run_as_always(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient], world: World
) -> None:
    headers = {"X-Tenant-ID": world.viewers["student"].tenant}
    for query in ("{ myDashboard { overallProgress } }", "{ courses { totalCount } }"):
        compiled = await clients[0].post("/graphql", json={"query": query}, headers=headers)
        interpreted = await clients[1].post("/graphql", json={"query": query}, headers=headers)
        assert compiled.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert_identical(compiled, interpreted, query)


async def test_a_json_number_a_float_would_print_otherwise_falls_back(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient], world: World, owner_conn: psycopg.Connection
) -> None:
    viewer = world.viewers["newcomer"]
    query = "{ myDashboard { recentActivity { payload } } }"
    compiled, _ = await both(clients, viewer, query, {})
    assert compiled.headers["x-execution"] == "compiled"
    user = compiled_user(owner_conn, viewer)
    for number in ("1.50", "0.000001", "1234567890123456789", "1234567890.123456789"):
        owner_conn.execute(
            "INSERT INTO domain_events (tenant_id, user_id, event_type, payload)"
            " SELECT tenant_id, id, 'odd.number', %s::jsonb FROM users WHERE id = %s",
            (f'{{"x": {number}}}', user),
        )
        compiled, interpreted = await both(clients, viewer, query, {})
        assert compiled.headers["x-execution"] == "interpreted", number
        assert_identical(compiled, interpreted, number)
        owner_conn.execute("DELETE FROM domain_events WHERE user_id = %s AND event_type = 'odd.number'", (user,))


def compiled_user(owner_conn: psycopg.Connection, viewer: Viewer) -> Any:
    import jwt

    return jwt.decode(viewer.token, options={"verify_signature": False})["sub"]


def test_only_utc_connections_are_compiled() -> None:
    from datetime import UTC, timedelta, timezone
    from zoneinfo import ZoneInfo

    assert is_utc(UTC)
    assert is_utc(ZoneInfo("Etc/UTC"))
    assert is_utc(ZoneInfo("UTC"))
    assert not is_utc(ZoneInfo("Europe/Paris"))
    assert not is_utc(timezone(timedelta(hours=1)))


async def test_a_compiled_read_out_of_time_is_stopped_and_answered_as_a_resolver_would_be(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient],
    world: World,
    apps: tuple[Any, Any],
    owner_conn: psycopg.Connection,
    database_urls: OwnedDatabaseUrls,
) -> None:
    """The statement runs under the tenant's statement timeout: held up by a lock past it, it
    is cancelled, and the answer is the timeout's error (no data), retryable."""
    owner_conn.execute(
        "UPDATE tenants SET settings = jsonb_set(settings, '{limits,statement_timeout_ms}', '300') WHERE id = %s",
        (world.tenant.id,),
    )
    for app in apps:
        app.state.services.registry.invalidate(world.tenant.slug)
    viewer = world.viewers["student"]
    await ask(clients[0], viewer, "{ __typename }", {})  # the tenant and viewer, read before the lock
    with psycopg.connect(libpq_url(database_urls.owner)) as locker:
        locker.execute("LOCK TABLE courses IN ACCESS EXCLUSIVE MODE")
        reply = await ask(clients[0], viewer, BENCH_DASHBOARD, {})
        locker.rollback()
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["data"] is None
    assert [error["extensions"] for error in body["errors"]] == [{"retryable": True, "code": "QUERY_TOO_COMPLEX"}]
    assert body["errors"][0]["path"] == ["myDashboard"]
    assert reply.headers["x-execution"] == "compiled"
    # and the next one, unhindered, is answered
    assert "errors" not in (await ask(clients[0], viewer, BENCH_DASHBOARD, {})).json()


async def test_a_session_time_zone_other_than_utc_runs_as_always(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient],
    world: World,
    db: Database,
    owner_conn: psycopg.Connection,
    database_urls: OwnedDatabaseUrls,
) -> None:
    """Timestamps are written in UTC by the statement; a database whose sessions live in another
    zone gets its offsets from the ordinary path (psycopg's), so it is not compiled."""
    name = database_urls.owner.database
    owner_conn.execute(f"ALTER DATABASE \"{name}\" SET timezone = 'America/St_Johns'")
    await db.engine.dispose()  # new connections take the zone
    try:
        for query in (BENCH_DASHBOARD, CATALOGUE_FULL):
            compiled, interpreted = await both(clients, world.viewers["student"], query, {})
            assert compiled.headers["x-execution"] == "interpreted"
            assert_identical(compiled, interpreted, query)
            assert "-03:30" in compiled.text or "-02:30" in compiled.text
    finally:
        owner_conn.execute(f'ALTER DATABASE "{name}" RESET timezone')
        await db.engine.dispose()
    compiled, _ = await both(clients, world.viewers["student"], BENCH_DASHBOARD, {})
    assert compiled.headers["x-execution"] == "compiled"
