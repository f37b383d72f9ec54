"""Alembic environment: runs as the database owner, never as the app role."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine

from lms_graphql import models
from lms_graphql.config import DEFAULT_APP_ROLE
from lms_graphql.kit.db import normalize_url

config = context.config
target_metadata = models.Base.metadata

# The app role's name reaches the migrations as a config attribute (lms-graphql migrate)
# or as `alembic -x app_role=NAME ...`.
config.attributes.setdefault(
    "app_role",
    context.get_x_argument(as_dictionary=True).get("app_role", DEFAULT_APP_ROLE),
)


def _configure(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        compare_type=True,
        transaction_per_migration=True,
        # A bridge tenant's schema keeps its own revision (kit/homes.py).
        version_table_schema=config.attributes.get("schema"),
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = os.environ.get("LMS_DATABASE_URL")
    if not url:
        raise SystemExit("set LMS_DATABASE_URL to the owner's database URL")
    engine = create_engine(normalize_url(url))
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: RLS and grants need a live database")
run_migrations_online()
