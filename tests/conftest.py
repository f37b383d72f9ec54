"""A real PostgreSQL for the whole session: the embedded server (what a new user gets) or
LMS_TEST_DATABASE_URL. A fresh database is created and migrated once; tests isolate
themselves with fresh tenants."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import URL, create_engine

from lms_graphql.config import DEFAULT_APP_ROLE, Settings
from lms_graphql.kit.clusters import DEFAULT_REGION, Cluster
from lms_graphql.kit.db import Database, derive_app_password, normalize_url
from lms_graphql.kit.embedded import start_embedded_postgres
from lms_graphql.kit.homes import MAIN_CLUSTER
from lms_graphql.migrate import migrate
from lms_graphql.placement.service import create_placed_tenant
from lms_graphql.tenancy.service import create_tenant
from lms_graphql.tenancy.tenant import TenantConfig
from tests.support.database import OwnedDatabaseUrls, drop_silo_databases, libpq_url
from tests.support.http import TEST_JWT_KEYS
from tests.support.people import PASSWORD, Person, PersonFactory, TenantFactory, unique_slug


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> URL:
    configured = os.environ.get("LMS_TEST_DATABASE_URL")
    if configured:
        return normalize_url(configured)
    return normalize_url(start_embedded_postgres(tmp_path_factory.mktemp("embedded")))


@pytest.fixture(scope="session")
def database_urls(server_url: URL) -> Iterator[OwnedDatabaseUrls]:
    name = f"lms_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    owner = server_url.set(database=name)
    app_password = derive_app_password(owner, DEFAULT_APP_ROLE)
    migrate(owner, app_role=DEFAULT_APP_ROLE, app_password=app_password)
    yield OwnedDatabaseUrls(owner, owner.set(username=DEFAULT_APP_ROLE, password=app_password), True)
    create_engine(owner).dispose()
    try:
        drop_silo_databases(owner)
        with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except psycopg.Error as exc:  # cleaning up is not what the run tests: say so, stay green
        print(f"\nnote: the test database {name} was not dropped: {exc}", file=sys.stderr)


@pytest.fixture(scope="session")
def owner_conn(database_urls: OwnedDatabaseUrls) -> Iterator[psycopg.Connection]:
    """The owner's connection, for catalog inspection and setup that bypasses the app."""
    with psycopg.connect(libpq_url(database_urls.owner), autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="session")
async def db(database_urls: OwnedDatabaseUrls) -> AsyncIterator[Database]:
    # The tests hold the owner login: they make bridge and silo homes as `tenant create` does.
    main = Cluster(MAIN_CLUSTER, DEFAULT_REGION, database_urls.app, database_urls.owner)
    database = Database(database_urls.app, clusters={MAIN_CLUSTER: main}, pool_size=5)
    yield database
    await database.dispose()


@pytest.fixture
def env_for_cli(database_urls: OwnedDatabaseUrls, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment under which the CLI and server use the session's test database."""
    env = {
        "LMS_DATABASE_URL": database_urls.owner.render_as_string(hide_password=False),
        "LMS_DATA_DIR": str(tmp_path / "data"),
    }
    for key in ("LMS_APP_DATABASE_URL", "LMS_JWT_SECRET", "LMS_APP_ROLE"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def settings(env_for_cli: dict[str, str]) -> Settings:
    return Settings.from_env(env_for_cli)


@pytest.fixture
def make_tenant(db: Database) -> TenantFactory:
    async def factory(*, plan: str = "free", max_users: int | None = None, placement: str = "pool") -> TenantConfig:
        if placement != "pool":
            return await create_placed_tenant(
                db,
                slug=unique_slug(placement),
                name="Test tenant",
                plan=plan,
                max_users=max_users,
                placement=placement,
                app_role=DEFAULT_APP_ROLE,
            )
        async with db.platform_transaction() as session:
            return await create_tenant(session, slug=unique_slug(), name="Test tenant", plan=plan, max_users=max_users)

    return factory


# --- the ASGI app and a GraphQL client ------------------------------------------------


@pytest.fixture
async def app(db: Database, env_for_cli: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Any]:
    from lms_graphql.app import create_app

    monkeypatch.setenv("LMS_JWT_KEYS", TEST_JWT_KEYS)
    # Jobs run when a test says so (tests/support/jobs.py), not in the background.
    environment = {**env_for_cli, "LMS_JWT_KEYS": TEST_JWT_KEYS, "LMS_WORKER": "off"}
    application = create_app(Settings.from_env(environment), db=db)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def make_user(db: Database) -> PersonFactory:
    from lms_graphql.users.service import create_user

    async def factory(tenant: TenantConfig, role: str = "student", email: str | None = None) -> Person:
        address = email or f"{role}-{uuid.uuid4().hex[:8]}@uni.example"
        async with db.tenant_transaction(tenant.id) as session:
            user = await create_user(
                session, tenant, email=address, full_name=f"A {role}", role=role, password=PASSWORD
            )
        return Person(tenant, user.id, address, role)

    return factory
