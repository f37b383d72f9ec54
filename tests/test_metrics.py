"""GET /metrics: Prometheus text behind a bearer token, the facts it counts, labels that never
name a tenant, and sums across `serve --workers` processes."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from sqlalchemy import text

from lms_graphql import server
from lms_graphql.config import ConfigError, Settings
from lms_graphql.kit.db import Database
from lms_graphql.observability import metrics
from tests.support.http import TEST_JWT_KEYS
from tests.support.people import PASSWORD, PersonFactory, TenantFactory
from tests.support.scenes import NOTIFICATION_FEED, progress, scene
from tests.support.servers import LiveServer, live_server, run_server, stop, subscribed, transport, wait_until_ready

METRICS_TOKEN = "scrape-" + "m" * 24
FAMILIES = {
    "lms_requests",
    "lms_request_duration_seconds",
    "lms_query_cost",
    "lms_refusals",
    "lms_websockets_open",
    "lms_subscriptions_active",
    "lms_db_pool_connections_in_use",
    "lms_db_pool_connections_max",
    "lms_db_pool_checkout_seconds",
    "lms_db_pool_waits",
    "lms_db_pool_timeouts",
    "lms_outbox_publish_delay_seconds",
    "lms_outbox_backlog_events",
    "lms_outbox_oldest_unpublished_age_seconds",
    "lms_worker_start_time_seconds",
}
NAMED_QUERY = "query CatalogueProbe { tenant { slug } }"


def scrape(base: str, token: str | None = METRICS_TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"{base}/metrics", headers=headers, timeout=10)


def samples(base: str, *, every_family: bool = True) -> list[Sample]:
    """What a scrape answers (parsed as Prometheus parses it). Families with labels appear once
    something was counted in them: ``every_family`` when all have been."""
    reply = scrape(base)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/plain")
    families = list(text_string_to_metric_families(reply.text))
    if every_family:
        assert {family.name for family in families} >= FAMILIES
    return [sample for family in families for sample in family.samples]


def value(found: list[Sample], name: str, **labels: str) -> float:
    return sum(s.value for s in found if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


@pytest.fixture
async def metered_app(db: Database, env_for_cli: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    from lms_graphql.app import create_app

    environment = {**env_for_cli, "LMS_JWT_KEYS": TEST_JWT_KEYS, "LMS_METRICS_TOKEN": METRICS_TOKEN}
    application = create_app(Settings.from_env(environment), db=db)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


async def test_metrics_are_off_without_a_token(client: httpx.AsyncClient) -> None:
    reply = await client.get("/metrics")
    assert reply.status_code == 404
    assert reply.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_metrics_answer_only_the_token(metered_app: httpx.AsyncClient) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer wrong-token-0123456789"},
        {"Authorization": f"Basic {METRICS_TOKEN}"},
    ):
        reply = await metered_app.get("/metrics", headers=headers)
        assert reply.status_code == 401, headers
        assert reply.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # No tenant needed: /metrics is not a tenant's.
    reply = await metered_app.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert reply.status_code == 200
    assert {family.name for family in text_string_to_metric_families(reply.text)} >= FAMILIES


async def test_the_backlog_counts_unpublished_events_of_every_tenant(db: Database, make_tenant: TenantFactory) -> None:
    from sqlalchemy import delete

    from lms_graphql.events.outbox import append_event
    from lms_graphql.events.repository import outbox_backlog
    from lms_graphql.models.tables import EVENTS

    async with db.platform_transaction() as session:
        before, _ = await outbox_backlog(session)
    tenants = [await make_tenant(), await make_tenant()]
    for tenant in tenants:  # no relay runs here: they stay unpublished
        async with db.tenant_transaction(tenant.id) as session:
            await append_event(session, tenant_id=tenant.id, event_type="test.backlog", user_id=None, payload={})
    try:
        async with db.platform_transaction() as session:
            events, oldest_age = await outbox_backlog(session)
            # The function leaves no tenant bound behind it.
            bound = (await session.execute(text("SELECT current_setting('app.current_tenant_id', true)"))).scalar()
        assert events == before + 2
        assert oldest_age >= 0
        assert not bound
    finally:
        for tenant in tenants:
            async with db.tenant_transaction(tenant.id) as session:
                await session.execute(delete(EVENTS).where(EVENTS.c.tenant_id == tenant.id))


def test_metrics_token_settings(tmp_path: Any) -> None:
    token_file = tmp_path / "metrics-token"
    token_file.write_text(METRICS_TOKEN + "\n")
    assert Settings.from_env({"LMS_METRICS_TOKEN_FILE": str(token_file)}).metrics_token == METRICS_TOKEN
    assert Settings.from_env({}).metrics_token is None
    with pytest.raises(ConfigError, match="LMS_METRICS_TOKEN must be at least 16 characters"):
        Settings.from_env({"LMS_METRICS_TOKEN": "short"})
    with pytest.raises(ConfigError, match="LMS_METRICS_TOKEN_FILE: no file at"):
        Settings.from_env({"LMS_METRICS_TOKEN_FILE": str(tmp_path / "missing")})


def test_operation_names_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics, "_operation_names", set())
    assert metrics.operation_label(None, ran=True) == "(none)"
    assert metrics.operation_label("NeverRan", ran=False) == "(other)"  # a name that matched nothing
    assert metrics.operation_label("not a name", ran=True) == "(other)"
    names = [f"Operation{n}" for n in range(metrics.MAX_OPERATION_NAMES)]
    assert [metrics.operation_label(name, ran=True) for name in names] == names
    assert metrics.operation_label("OneTooMany", ran=True) == "(other)"
    assert metrics.operation_label(names[0], ran=False) == names[0]  # known names stay known


async def _ws_query(server: LiveServer, token: str) -> None:
    from gql import Client, GraphQLRequest

    async with Client(transport=transport(server, token, "graphql-transport-ws")) as session:
        await session.execute(GraphQLRequest("query SocketProbe { me { id } }"))


async def _eventually(check: Any, base: str, seconds: float = 15.0) -> list[Sample]:
    deadline = time.monotonic() + seconds
    while True:
        found = samples(base)
        if check(found) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.2)


@pytest.mark.slow
async def test_metrics_count_requests_refusals_sockets_and_the_outbox(
    env_for_cli: dict[str, str], make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    world = await scene(make_tenant, make_user, db)
    with live_server(env_for_cli, LMS_METRICS_TOKEN=METRICS_TOKEN) as server:
        assert scrape(server.base, None).status_code == 401
        assert scrape(server.base, "wrong-token-0123456789").status_code == 401
        student = await server.login(world.slug, world.student.email, PASSWORD)
        for _ in range(3):
            # Signed in: only a signed-in user's operations teach the metrics a name.
            body = await server.gql(NAMED_QUERY, None, Authorization=f"Bearer {student}")
            assert body["data"]["tenant"]["slug"] == world.slug
        bad_token = await server.gql("{ tenant { slug } }", Authorization="Bearer not-a-token")
        assert bad_token["errors"][0]["extensions"]["code"] == "INVALID_TOKEN"
        unknown = await server.gql("{ tenant { slug } }", None, **{"X-Tenant-ID": "no-such-tenant"})
        assert unknown["errors"][0]["extensions"]["code"] == "TENANT_NOT_FOUND"
        await _ws_query(server, student)
        async with subscribed(server, student, NOTIFICATION_FEED) as feed:
            live = await _eventually(lambda s: value(s, "lms_subscriptions_active") == 1, server.base)
            assert value(live, "lms_subscriptions_active") == 1
            assert value(live, "lms_websockets_open") == 1
            await progress(server, student, world.lessons[0], 100)  # an event for the relay
            assert feed.error is None
        found = await _eventually(
            lambda s: (
                value(s, "lms_outbox_publish_delay_seconds_count") >= 1 and value(s, "lms_subscriptions_active") == 0
            ),
            server.base,
        )

    plan = world.teacher.tenant.plan
    requests = "lms_requests_total"
    assert value(found, requests, transport="http", operation="CatalogueProbe", status="200", plan=plan) == 3
    assert value(found, requests, transport="ws", operation="SocketProbe", status="200", plan=plan) == 1
    assert value(found, requests, transport="http", status="401", plan="(none)") == 1
    assert value(found, "lms_refusals_total", code="INVALID_TOKEN") == 1
    assert value(found, "lms_refusals_total", code="TENANT_NOT_FOUND") == 1
    assert value(found, "lms_request_duration_seconds_count", operation="CatalogueProbe") == 3
    assert value(found, "lms_query_cost_count", plan=plan) >= 5  # the probes, the login, progress, the ws query
    assert (value(found, "lms_subscriptions_active"), value(found, "lms_websockets_open")) == (0, 0)
    assert value(found, "lms_outbox_publish_delay_seconds_count") >= 1
    assert value(found, "lms_db_pool_connections_max", pool="requests") == 20
    assert value(found, "lms_db_pool_checkout_seconds_count", pool="requests") >= 1
    assert value(found, "lms_outbox_backlog_events") >= 0
    # Cardinality: nothing that names a tenant or a person is a label value.
    forbidden = {world.slug, str(world.teacher.tenant.id), str(world.student.id), str(world.teacher.id)}
    forbidden |= {world.student.email, world.teacher.email, "no-such-tenant"}
    labels = {label for sample in found for label in sample.labels.values()}
    assert not labels & forbidden
    assert {s.labels["operation"] for s in found if s.name == requests} <= {
        "CatalogueProbe",
        "SocketProbe",
        "(none)",
        "(other)",
    }


def _workers(server: psutil.Process) -> list[psutil.Process]:
    """uvicorn's worker processes (not multiprocessing's resource tracker, nor one just killed)."""
    workers = []
    for child in server.children():
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                workers.append(child)
        except psutil.Error:  # a zombie, or gone
            continue
    return workers


def started_workers(base: str, count: int, gone: frozenset[int] = frozenset()) -> tuple[set[int], list[Sample]]:
    """Scrape until ``count`` workers other than ``gone`` have started (and so set their gauges)."""
    deadline = time.monotonic() + 60
    while True:
        found = samples(base, every_family=False)
        # A worker's sample is there (at 0) from the import of the metrics; set once it serves.
        started = {int(s.labels["pid"]) for s in found if s.name == "lms_worker_start_time_seconds" and s.value > 0}
        if len(started - gone) >= count:
            return started, found
        assert time.monotonic() < deadline, f"{count} workers did not start: {started}"
        time.sleep(0.2)


@pytest.mark.slow
def test_metrics_sum_the_workers_and_forget_dead_ones(env_for_cli: dict[str, str]) -> None:
    tenant = f"w-{uuid.uuid4().hex[:8]}"
    process, base = run_server({**env_for_cli, "LMS_METRICS_TOKEN": METRICS_TOKEN}, "--workers", "2")
    try:
        wait_until_ready(process, base)
        workers, _ = started_workers(base, 2)
        assert workers == {worker.pid for worker in _workers(psutil.Process(process.pid))}
        for _ in range(12):  # a connection each: the kernel hands them to either worker
            httpx.post(f"{base}/graphql", json={"query": "query W { __typename }"}, headers={"X-Tenant-ID": tenant})
        found = samples(base, every_family=False)
        assert value(found, "lms_requests_total", operation="(none)", status="404") == 12
        # Each worker's pool counts once: the live gauges of both are summed.
        assert value(found, "lms_db_pool_connections_max", pool="requests") == 2 * 20

        killed = min(workers)
        os.kill(killed, signal.SIGKILL)  # uvicorn starts another in its place
        started, found = started_workers(base, 2, gone=frozenset({killed}))
        # The dead worker's gauges left the sums; its counts stayed.
        assert killed not in started
        assert value(found, "lms_db_pool_connections_max", pool="requests") == 2 * 20
        assert value(found, "lms_requests_total", operation="(none)", status="404") == 12
    finally:
        stop(process)


async def test_anonymous_clients_teach_no_operation_names(
    metered_app: httpx.AsyncClient, make_tenant: TenantFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Anyone may send a hundred named queries right after a start: they must not use up the
    label places that signed-in users' operations need."""
    monkeypatch.setattr(metrics, "_operation_names", set())
    tenant = await make_tenant()
    for n in range(3):
        query = {"query": f"query Anonymous{n} {{ tenant {{ slug }} }}"}
        reply = await metered_app.post("/graphql", json=query, headers={"X-Tenant-ID": tenant.slug})
        assert reply.status_code == 200
    assert metrics._operation_names == set()


def test_a_killed_servers_metrics_directory_goes_at_the_next_start(tmp_path: Path) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    left = Path(tempfile.gettempdir()) / f"{server.METRICS_DIR_PREFIX}{gone.pid}-abc123"
    mine = Path(tempfile.gettempdir()) / f"{server.METRICS_DIR_PREFIX}{os.getpid()}-abc123"
    for directory in (left, mine):
        directory.mkdir()
        (directory / "counter_1.db").write_bytes(b"")
    try:
        server._remove_orphaned_metrics_dirs()
        assert not left.exists()
        assert mine.exists()  # a live process's
    finally:
        shutil.rmtree(left, ignore_errors=True)
        shutil.rmtree(mine, ignore_errors=True)
