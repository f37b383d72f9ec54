"""Models and migrations agree, and migrating is idempotent."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from lms_graphql import models
from lms_graphql.config import DEFAULT_APP_ROLE
from lms_graphql.kit.db import DatabaseUrls
from lms_graphql.migrate import head_revision, migrate


def test_models_and_migrations_agree(database_urls: DatabaseUrls) -> None:
    # The equivalent of `alembic check`: autogenerate finds nothing to do.
    engine = create_engine(database_urls.owner)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, models.Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_migrating_again_is_a_no_op(database_urls: DatabaseUrls) -> None:
    head = head_revision(DEFAULT_APP_ROLE)
    before, after = migrate(database_urls.owner, app_role=DEFAULT_APP_ROLE, app_password=None)
    assert before == after == head
