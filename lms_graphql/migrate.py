"""Bring the database to the newest schema as the owner, and keep the app role usable."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from psycopg import sql
from sqlalchemy import URL, Connection, create_engine, text

from lms_graphql.config import DEFAULT_APP_ROLE

# Inside the package, so an installed wheel carries them (alembic.ini points here too).
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# pg_advisory_lock key: instances that start together migrate one after the other.
MIGRATION_LOCK = 7_253_018_334


class MigrationSetupError(RuntimeError):
    pass


def alembic_config(app_role: str) -> Config:
    if not (MIGRATIONS_DIR / "env.py").exists():
        raise MigrationSetupError(
            f"migrations not found at {MIGRATIONS_DIR}: the installed lms-graphql package is incomplete"
        )
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["app_role"] = app_role
    return config


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


@functools.cache
def head_revision(app_role: str = DEFAULT_APP_ROLE) -> str | None:
    return ScriptDirectory.from_config(alembic_config(app_role)).get_current_head()


def migrate(
    owner_url: URL, *, app_role: str, app_password: str | None, schema: str | None = None
) -> tuple[str | None, str | None]:
    """Upgrade to head; returns (revision before, revision after). Idempotent.

    ``app_password`` (when we manage the app login) is set on the role so that password
    authentication works for it as it does for the owner. ``schema``: a bridge tenant's schema
    in that database (created if missing), instead of ``public``.
    """
    config = alembic_config(app_role)
    engine = create_engine(owner_url)
    try:
        with engine.connect() as conn:
            # Held until the connection closes (engine.dispose): concurrent upgrades would race
            # on CREATE TABLE, and concurrent ALTER ROLE fails ("tuple concurrently updated").
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            if schema is not None:
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
                conn.execute(text(f'SET search_path TO "{schema}"'))
                config.attributes["schema"] = schema
            conn.commit()
            before = current_revision(conn)
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            conn.commit()
            after = current_revision(conn)
            if app_password is not None:
                _set_role_password(conn, app_role, app_password)
    finally:
        engine.dispose()
    return before, after


def schema_revision(url: URL) -> str | None:
    """The schema's revision as ``url``'s login sees it (the app role may read it: 0007)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return current_revision(conn)
    finally:
        engine.dispose()


def _set_role_password(conn: Connection, role: str, password: str) -> None:
    raw = conn.connection.driver_connection
    assert raw is not None
    # Utility statements take no bind parameters: quote the literal client-side.
    raw.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role), sql.Literal(password)))
    conn.commit()
