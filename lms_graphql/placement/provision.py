"""Making and migrating a bridge or silo home, as the cluster's owner (synchronous: Alembic).

A home is made by the same migrations as the pool, then given a copy of its tenant's
registry row (its foreign keys and the seat check need it). Every step is idempotent, so
`lms-graphql migrate` finishes what a failed creation or upgrade left half done.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import URL, create_engine, select

from lms_graphql import models
from lms_graphql.kit.clusters import Cluster
from lms_graphql.kit.homes import MAIN_CLUSTER, Home
from lms_graphql.migrate import migrate
from lms_graphql.tenancy.repository import copy_upsert


class ProvisionError(RuntimeError):
    pass


def owner_of(cluster: Cluster) -> URL:
    if cluster.owner is None:
        raise ProvisionError(f"cluster {cluster.name!r} has no owner login in this process (LMS_DATABASE_URL)")
    return cluster.owner


def home_url(cluster: Cluster, home: Home) -> URL:
    """The owner's URL of the database holding ``home``."""
    owner = owner_of(cluster)
    return owner.set(database=home.database) if home.database else owner


def libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def ensure_database(cluster: Cluster, name: str) -> None:
    with psycopg.connect(libpq(owner_of(cluster)), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def upgrade_home(cluster: Cluster, home: Home, *, app_role: str) -> tuple[str | None, str | None]:
    """Create the home if missing and bring it to head: (revision before, after).

    On the main cluster the pool's migration made the app role and set its password (roles are
    the server's, not a database's). On another, the role is made by the first home there, and
    its password (derived from that cluster's owner) set each time. A bridge there needs its
    database's public schema migrated first: that is where its job queue is (kit/deferral.py).
    """
    on_main = cluster.name == MAIN_CLUSTER
    password = None if on_main or cluster.app.password is None else str(cluster.app.password)
    if home.database is not None:
        ensure_database(cluster, home.database)
    elif home.placement == "bridge" and not on_main:
        migrate(owner_of(cluster), app_role=app_role, app_password=password)
    schema = home.schema if home.placement == "bridge" else None
    return migrate(home_url(cluster, home), app_role=app_role, app_password=password, schema=schema)


def copy_registry_row(platform_owner: URL, cluster: Cluster, home: Home) -> None:
    """The home's copy of its tenant's registry row, as the registry has it now; where the
    tenant lives and whether it is frozen stay the home's own (a move sets them)."""
    platform = create_engine(platform_owner)
    target = create_engine(home_url(cluster, home))
    try:
        with platform.connect() as conn:
            row = conn.execute(select(models.Tenant.__table__).where(models.Tenant.id == home.tenant_id)).one()
        upsert_copy(target, home, dict(row._mapping))
    finally:
        platform.dispose()
        target.dispose()


def upsert_copy(engine: Any, home: Home, values: dict[str, Any]) -> None:
    with engine.begin() as conn:
        conn.execution_options(schema_translate_map={None: home.schema}).execute(copy_upsert(values, home))


def drop_home(cluster: Cluster, home: Home) -> None:
    """Remove a bridge's schema or a silo's database, and everything in it."""
    if home.placement == "pool":
        raise ProvisionError("the pool is not dropped")
    with psycopg.connect(libpq(owner_of(cluster)), autocommit=True) as conn:
        if home.database is not None:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(home.database)))
        else:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(home.schema)))
