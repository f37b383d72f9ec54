"""Models and migrations agree, and migrating is idempotent."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from lms_graphql import models
from lms_graphql.config import DEFAULT_APP_ROLE
from lms_graphql.migrate import head_revision, migrate
from tests.support.database import OwnedDatabaseUrls


def test_models_and_migrations_agree(database_urls: OwnedDatabaseUrls) -> None:
    # The equivalent of `alembic check`: autogenerate finds nothing to do.
    engine = create_engine(database_urls.owner)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, models.Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_migrating_again_is_a_no_op(database_urls: OwnedDatabaseUrls) -> None:
    head = head_revision(DEFAULT_APP_ROLE)
    before, after = migrate(database_urls.owner, app_role=DEFAULT_APP_ROLE, app_password=None)
    assert before == after == head


def test_instances_starting_together_migrate_one_after_the_other(
    database_urls: OwnedDatabaseUrls, owner_conn: psycopg.Connection
) -> None:
    """Two replicas starting at once on an empty database: both come up (no CREATE TABLE race,
    no "tuple concurrently updated" from two ALTER ROLEs)."""
    name = f"lms_race_{uuid.uuid4().hex[:8]}"
    owner_conn.execute(f'CREATE DATABASE "{name}"')
    owner = database_urls.owner.set(database=name)
    try:
        with ThreadPoolExecutor(2) as pool:
            runs = [pool.submit(migrate, owner, app_role=DEFAULT_APP_ROLE, app_password="race-password") for _ in "ab"]
            results = [run.result(timeout=120) for run in runs]
        head = head_revision(DEFAULT_APP_ROLE)
        assert sorted(results, key=str) == sorted([(None, head), (head, head)], key=str)
    finally:
        owner_conn.execute(f"ALTER ROLE {DEFAULT_APP_ROLE} PASSWORD NULL")
        owner_conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
