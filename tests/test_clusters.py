"""A second database server as a second cluster, in another region: a silo and a bridge there
serve the learning flow, residency holds, and jobs of a bridge off the main cluster reach the
platform's queue. LMS_TEST_CLUSTER_URL names the server (an owner login; `.ci/run` sets it when
PostgreSQL answers on 127.0.0.1:5432); without it the tests skip and say so."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from psycopg import sql

from lms_graphql.config import DEFAULT_APP_ROLE
from lms_graphql.errors import LmsError
from lms_graphql.kit.clusters import Cluster
from lms_graphql.kit.db import Database, derive_app_password, normalize_url
from lms_graphql.kit.deferral import defer_job
from lms_graphql.kit.homes import home_for
from lms_graphql.placement.moves import MoveError, move_tenant
from lms_graphql.placement.service import create_placed_tenant
from lms_graphql.tenancy.tenant import TenantConfig
from tests.support.database import OwnedDatabaseUrls, home_connection, libpq_url
from tests.support.http import gql
from tests.support.people import PersonFactory, unique_slug
from tests.support.quizzes import ALL_RIGHT, SUBMIT, classroom, learner

PROGRESS = "mutation($l: ID!, $p: Int!) { updateLessonProgress(lessonId: $l, progress: $p) { progressPct } }"


@pytest.fixture
def second_cluster(db: Database, owner_conn: psycopg.Connection) -> Iterator[Cluster]:
    raw = os.environ.get("LMS_TEST_CLUSTER_URL")
    if not raw:
        pytest.skip("LMS_TEST_CLUSTER_URL is not set: no second PostgreSQL server to use as a cluster")
    server = normalize_url(raw)
    try:
        with psycopg.connect(libpq_url(server), autocommit=True, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        pytest.skip(f"LMS_TEST_CLUSTER_URL does not answer: {exc}")
    name = f"lms_cluster_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq_url(server), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    owner = server.set(database=name)
    app = owner.set(username=DEFAULT_APP_ROLE, password=derive_app_password(owner, DEFAULT_APP_ROLE))
    cluster = Cluster("us", "us-east-1", app, owner)
    db.clusters["us"] = cluster  # the app under test routes with the session's Database
    try:
        yield cluster
    finally:
        del db.clusters["us"]
        # Their homes go with the server's databases, and so do they: the session's later sweeps
        # and migrations must not meet a cluster no longer configured.
        placed = owner_conn.execute("DELETE FROM tenants WHERE cluster = 'us' RETURNING id").fetchall()
        silos = [f"lms_tenant_{tenant_id.hex}" for (tenant_id,) in placed]  # Home.database of each
        with psycopg.connect(libpq_url(server), autocommit=True) as conn:
            for database in [name, *silos]:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))


async def test_tenants_on_another_cluster_learn_move_and_stay_in_their_region(
    client: httpx.AsyncClient,
    make_user: PersonFactory,
    db: Database,
    database_urls: OwnedDatabaseUrls,
    owner_conn: psycopg.Connection,
    second_cluster: Cluster,
) -> None:
    async def in_us(**kwargs: object) -> TenantConfig:
        return await create_placed_tenant(
            db, slug=unique_slug("us"), name="US university", plan="pro", placement="silo", cluster="us",
            region="us-east-1", app_role=DEFAULT_APP_ROLE,
        )  # fmt: skip

    room = await classroom(client, in_us, make_user, db, lessons=2)
    tenant = room.teacher.tenant
    assert (tenant.placement, tenant.cluster, tenant.region) == ("silo", "us", "us-east-1")
    quiz = await room.assessment(client, maxAttempts=2)
    person, token = await learner(client, make_user, room)
    for lesson in room.lesson_ids:
        assert (await gql(client, PROGRESS, {"l": str(lesson), "p": 100}, token=token)).data is not None
    submitted = (await gql(client, SUBMIT, {"a": quiz, "answers": ALL_RIGHT}, token=token)).data["submitAssessment"]
    assert submitted["passed"] is True
    silo = home_for(tenant.id, "silo", "us")
    with home_connection(second_cluster.owner, silo) as conn:  # type: ignore[arg-type]
        assert conn.execute("SELECT count(*) FROM certificates WHERE tenant_id = %s", (tenant.id,)).fetchone() == (1,)
    assert owner_conn.execute("SELECT count(*) FROM users WHERE tenant_id = %s", (tenant.id,)).fetchone() == (0,)

    # Residency: not onto the main cluster (eu-west-1), whatever the placement.
    with pytest.raises(MoveError, match="residency"):
        move_tenant(database_urls.owner, db.clusters, tenant.slug, "pool", app_role=DEFAULT_APP_ROLE)
    with pytest.raises(LmsError):
        await create_placed_tenant(
            db, slug=unique_slug(), name="x", plan="free", placement="bridge", cluster="us", region="eu-west-1",
            app_role=DEFAULT_APP_ROLE,
        )  # fmt: skip

    # To a bridge on the same cluster: its database's public schema holds the job queue.
    await asyncio.to_thread(
        move_tenant, database_urls.owner, db.clusters, tenant.slug, "bridge", "us", app_role=DEFAULT_APP_ROLE,
        grace_seconds=0.2,
    )  # fmt: skip
    dashboard = await gql(client, "{ myDashboard { certificatesEarned } }", token=token)
    assert dashboard.data["myDashboard"]["certificatesEarned"] == 1
    marker = str(uuid.uuid4())
    async with db.tenant_transaction(tenant.id) as session:
        assert session.info["home"] == home_for(tenant.id, "bridge", "us")
        await defer_job(session, "storage.delete", {"tenant_id": str(tenant.id), "marker": marker}, queue="deletions")
    queued = owner_conn.execute(
        "SELECT count(*) FROM procrastinate.procrastinate_jobs WHERE args->>'marker' = %s", (marker,)
    ).fetchone()
    assert queued == (1,), "forwarded from the cluster's queue to the platform's"
    owner_conn.execute("DELETE FROM procrastinate.procrastinate_jobs WHERE args->>'marker' = %s", (marker,))
    with psycopg.connect(libpq_url(second_cluster.owner), autocommit=True) as conn:  # type: ignore[arg-type]
        assert conn.execute("SELECT count(*) FROM procrastinate.procrastinate_jobs").fetchone() == (0,)
    assert person.tenant.id == tenant.id
