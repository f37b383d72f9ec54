"""Pool, bridge and silo tenants behind one API: the same learning flow in each, their rows in
their own homes only, homes behind the code refused, and silo jobs reaching the worker."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import psycopg
import pytest

from lms_graphql.kit.db import Database
from lms_graphql.kit.homes import POOL, home_for
from lms_graphql.tenancy.tenant import TenantConfig
from tests.support.database import OwnedDatabaseUrls, home_connection
from tests.support.http import gql, login
from tests.support.people import PersonFactory, TenantFactory
from tests.support.quizzes import ALL_RIGHT, SUBMIT, classroom, learner

PROGRESS = "mutation($l: ID!, $p: Int!) { updateLessonProgress(lessonId: $l, progress: $p) { progressPct } }"
DASHBOARD = """{ myDashboard { certificatesEarned enrolledCourses { progressPercent nextLesson { id } course { id } }
  certificates { verificationCode } } }"""
VERIFY = "query($c: String!) { verifyCertificate(code: $c) { courseTitle } }"


def home_of(tenant: TenantConfig) -> Any:
    return home_for(tenant.id, tenant.placement, tenant.cluster)


def rows_of(conn: psycopg.Connection, tenant: TenantConfig) -> dict[str, int]:
    counted = {}
    for table in ("users", "courses", "enrollments", "lesson_progress", "submissions", "certificates", "domain_events"):
        found = conn.execute(f"SELECT count(*) FROM {table} WHERE tenant_id = %s", (tenant.id,)).fetchone()
        assert found is not None
        counted[table] = found[0]
    return counted


def downgrade_bridge(urls: OwnedDatabaseUrls, schema: str, revision: str) -> None:
    """A bridge's schema one revision back, as a home left behind by an interrupted upgrade."""
    from alembic import command
    from sqlalchemy import create_engine, text

    from lms_graphql.migrate import alembic_config

    config = alembic_config("lms_app")
    engine = create_engine(urls.owner)
    with engine.connect() as conn:
        conn.execute(text(f'SET search_path TO "{schema}"'))
        config.attributes.update(connection=conn, schema=schema)
        command.downgrade(config, revision)
        conn.commit()
    engine.dispose()


async def learning_flow(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, db: Database, placement: str
) -> TenantConfig:
    async def in_placement(**kwargs: Any) -> TenantConfig:
        return await make_tenant(placement=placement, **kwargs)

    room = await classroom(client, in_placement, make_user, db, lessons=2)
    quiz = await room.assessment(client, maxAttempts=2)
    person, token = await learner(client, make_user, room)
    for lesson in room.lesson_ids:
        reply = await gql(client, PROGRESS, {"l": str(lesson), "p": 100}, token=token)
        assert reply.data["updateLessonProgress"]["progressPct"] == 100, reply.body
    submitted = (await gql(client, SUBMIT, {"a": quiz, "answers": ALL_RIGHT}, token=token)).data["submitAssessment"]
    assert submitted["passed"] is True, submitted
    dashboard = (await gql(client, DASHBOARD, token=token)).data["myDashboard"]
    assert dashboard["certificatesEarned"] == 1
    assert dashboard["enrolledCourses"][0]["progressPercent"] == 100
    code = dashboard["certificates"][0]["verificationCode"]
    headers = {"X-Tenant-ID": room.teacher.tenant.slug}
    verified = (await client.post("/graphql", json={"query": VERIFY, "variables": {"c": code}}, headers=headers)).json()
    assert verified["data"]["verifyCertificate"] is not None, verified
    titles = [n["title"] for n in (await gql(client, "{ notifications { title } }", token=token)).data["notifications"]]
    assert titles, "the learner was notified (events went through the outbox and the fan-out)"
    assert person.tenant.placement == placement
    return room.teacher.tenant


async def test_three_placements_serve_the_full_learning_flow(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    db: Database,
    database_urls: OwnedDatabaseUrls,
    owner_conn: psycopg.Connection,
) -> None:
    tenants = [await learning_flow(client, make_tenant, make_user, db, p) for p in ("pool", "bridge", "silo")]
    for tenant in tenants:
        with home_connection(database_urls.owner, home_of(tenant)) as conn:
            counted = rows_of(conn, tenant)
        assert (counted["certificates"], counted["lesson_progress"]) == (1, 2), (tenant.placement, counted)
        assert min(counted.values()) > 0, (tenant.placement, counted)
        if tenant.placement != "pool":  # nothing of it in the pool
            assert set(rows_of(owner_conn, tenant).values()) == {0}
    schemas = {row[0] for row in owner_conn.execute("SELECT nspname FROM pg_namespace")}
    assert home_of(tenants[1]).schema in schemas
    databases = {row[0] for row in owner_conn.execute("SELECT datname FROM pg_database")}
    assert home_of(tenants[2]).database in databases


@pytest.mark.parametrize(("placement"), ["bridge", "silo"])
async def test_rls_stays_on_in_a_home_of_its_own(
    make_tenant: TenantFactory, make_user: PersonFactory, db: Database, database_urls: OwnedDatabaseUrls, placement: str
) -> None:
    """Defence in depth: the home's tables are under the same forced row-level security, so a
    transaction bound to another tenant id sees none of its rows there either."""
    tenant = await make_tenant(placement=placement)
    await make_user(tenant, "admin")
    home = home_of(tenant)
    other = await make_tenant()
    async with db.tenant_transaction(other.id, home=home) as session:
        from sqlalchemy import text

        assert (await session.execute(text("SELECT count(*) FROM users"))).scalar() == 0
    async with db.tenant_transaction(tenant.id) as session:
        assert (await session.execute(text("SELECT count(*) FROM users"))).scalar() == 1
    with home_connection(database_urls.owner, home) as conn:
        forced = conn.execute(
            "SELECT count(*) FILTER (WHERE NOT relforcerowsecurity), count(*) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r' "
            "AND EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id')",
            (home.schema,),
        ).fetchone()
    assert forced is not None
    assert forced[0] == 0, forced
    assert forced[1] > 10, forced


async def test_a_home_behind_the_code_is_refused_until_migrated(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    database_urls: OwnedDatabaseUrls,
    db: Database,
) -> None:
    from lms_graphql.placement.upgrades import home_states, upgrade_homes

    tenant = await make_tenant(placement="bridge")
    token = await login(client, await make_user(tenant, "admin"))
    home = home_of(tenant)
    await asyncio.to_thread(downgrade_bridge, database_urls, home.schema, "0016")
    db.homes.clear()  # as a freshly started process knows it
    reply = await client.post("/graphql", json={"query": "{ me { id } }"}, headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 503, reply.text
    assert reply.json()["errors"][0]["extensions"]["retryable"] is True
    states = {state.slug: state for state in await asyncio.to_thread(home_states, database_urls.owner, db.clusters)}
    assert states[tenant.slug].revision == "0016"
    assert not states[tenant.slug].current
    results = await asyncio.to_thread(upgrade_homes, database_urls.owner, db.clusters, app_role="lms_app")
    assert all(state.current for state in results), [state.describe() for state in results]
    assert (await gql(client, "{ me { id } }", token=token)).data["me"] is not None


async def test_residency_and_clusters_are_checked(make_tenant: TenantFactory, db: Database) -> None:
    from lms_graphql.errors import LmsError
    from lms_graphql.placement.service import create_placed_tenant

    for placement, cluster, region in (("silo", "main", "us-east-1"), ("bridge", "nowhere", None), ("pool", "x", None)):
        with pytest.raises(LmsError) as refused:
            await create_placed_tenant(
                db, slug="never", name="Never", plan="free", placement=placement, cluster=cluster, region=region,
                app_role="lms_app",
            )  # fmt: skip
        assert refused.value.code.value == "BAD_USER_INPUT"
    assert POOL.placement == "pool"


async def test_a_silo_tenants_jobs_reach_the_platforms_queue(
    make_tenant: TenantFactory, db: Database, database_urls: OwnedDatabaseUrls, owner_conn: psycopg.Connection
) -> None:
    """Deferred in the silo's transaction (atomic with the change), forwarded after the commit
    to the queue the workers listen to."""
    from lms_graphql.kit.deferral import defer_job

    tenant = await make_tenant(placement="silo")
    marker = str(uuid.uuid4())
    async with db.tenant_transaction(tenant.id) as session:
        await defer_job(session, "storage.delete", {"tenant_id": str(tenant.id), "marker": marker}, queue="deletions")
    queued = owner_conn.execute(
        "SELECT count(*) FROM procrastinate.procrastinate_jobs WHERE args->>'marker' = %s", (marker,)
    ).fetchone()
    assert queued == (1,)
    with home_connection(database_urls.owner, home_of(tenant)) as conn:
        assert conn.execute("SELECT count(*) FROM procrastinate.procrastinate_jobs").fetchone() == (0,)
    owner_conn.execute("DELETE FROM procrastinate.procrastinate_jobs WHERE args->>'marker' = %s", (marker,))


PLACE = """mutation($slug: String!, $placement: TenantPlacement, $cluster: String, $region: String) {
  createTenant(input: {slug: $slug, name: "Placed", placement: $placement, cluster: $cluster, region: $region}) {
    id slug region } }"""


async def test_an_operator_places_a_tenant_and_its_admins_see_where(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    db: Database,
    owner_conn: psycopg.Connection,
) -> None:
    operator = await login(client, await make_user(await make_tenant(plan="enterprise"), "super_admin"))
    slug = f"placed-{uuid.uuid4().hex[:8]}"
    created = (await gql(client, PLACE, {"slug": slug, "placement": "SILO"}, token=operator)).data["createTenant"]
    assert created["region"] == "eu-west-1"
    row = owner_conn.execute("SELECT placement FROM tenants WHERE slug = %s", (slug,)).fetchone()
    assert row == ("silo",)
    audited = owner_conn.execute("SELECT count(*) FROM audit_log WHERE tenant_id = %s", (created["id"],)).fetchone()
    assert audited == (0,), "the audit entry is in the silo, not in the pool"
    for bad in ({"placement": "BRIDGE", "cluster": "mars"}, {"placement": "SILO", "region": "us-east-1"}):
        reply = await gql(client, PLACE, {"slug": f"no-{uuid.uuid4().hex[:8]}", **bad}, token=operator)
        assert reply.codes == ["BAD_USER_INPUT"], reply.body
    tenant = await make_tenant(placement="bridge")
    admin = await login(client, await make_user(tenant, "admin"))
    overview = (await gql(client, "{ tenantOverview { placement region userCount } }", token=admin)).data
    assert overview["tenantOverview"] == {"placement": "BRIDGE", "region": "eu-west-1", "userCount": 1}
