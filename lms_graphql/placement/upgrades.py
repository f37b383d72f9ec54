"""Every home at this code's schema: what `lms-graphql migrate` (and `--status`) does after the
pool. Each home keeps its own revision, so a run that failed halfway resumes where it stopped."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql
from sqlalchemy import URL

from lms_graphql.kit.clusters import Cluster
from lms_graphql.kit.homes import POOL, Home, home_for
from lms_graphql.migration_helpers import schema_head
from lms_graphql.placement.provision import copy_registry_row, home_url, libpq, upgrade_home


@dataclass(frozen=True)
class HomeState:
    slug: str | None  # None: the pool, every pooled tenant's home
    home: Home
    revision: str | None  # None: not made yet
    error: str | None = None

    @property
    def current(self) -> bool:
        return self.error is None and self.revision == schema_head()

    def describe(self) -> str:
        who = "pool" if self.slug is None else f"{self.slug}: {self.home.describe()}"
        if self.error is not None:
            return f"{who}: FAILED ({self.error})"
        state = "current" if self.current else "BEHIND"
        return f"{who}: {self.revision or 'empty'} ({state})"


def placed_tenants(platform_owner: URL) -> list[tuple[str, Home]]:
    """Every bridge and silo tenant, by slug."""
    with psycopg.connect(libpq(platform_owner)) as conn:
        rows = conn.execute(
            "SELECT id, slug, placement, cluster FROM tenants WHERE placement <> 'pool' ORDER BY slug"
        ).fetchall()
    return [(slug, home_for(tenant_id, placement, cluster)) for tenant_id, slug, placement, cluster in rows]


def home_revision(cluster: Cluster, home: Home) -> str | None:
    try:
        with psycopg.connect(libpq(home_url(cluster, home))) as conn:
            found = conn.execute(
                sql.SQL("SELECT version_num FROM {}.alembic_version").format(sql.Identifier(home.schema))
            ).fetchone()
    except (psycopg.errors.InvalidCatalogName, psycopg.errors.UndefinedTable):
        return None  # no database, or no schema or table in it
    return None if found is None else str(found[0])


def home_states(platform_owner: URL, clusters: dict[str, Cluster]) -> list[HomeState]:
    states = [HomeState(None, POOL, home_revision(clusters["main"], POOL))]
    for slug, home in placed_tenants(platform_owner):
        cluster = clusters.get(home.cluster)
        if cluster is None:
            states.append(HomeState(slug, home, None, f"cluster {home.cluster!r} is not in LMS_CLUSTERS"))
            continue
        try:
            states.append(HomeState(slug, home, home_revision(cluster, home)))
        except psycopg.Error as exc:
            states.append(HomeState(slug, home, None, str(exc).strip().splitlines()[0]))
    return states


def upgrade_homes(platform_owner: URL, clusters: dict[str, Cluster], *, app_role: str) -> list[HomeState]:
    """Bring every bridge and silo home to head (the pool first, by the caller), one after the
    other; one home's failure is reported, and the others still go on."""
    results: list[HomeState] = []
    for slug, home in placed_tenants(platform_owner):
        results.append(upgrade_placed_tenant(platform_owner, clusters, slug, home, app_role=app_role))
    return results


def upgrade_placed_tenant(
    platform_owner: URL, clusters: dict[str, Cluster], slug: str, home: Home, *, app_role: str
) -> HomeState:
    cluster = clusters.get(home.cluster)
    if cluster is None:
        return HomeState(slug, home, None, f"cluster {home.cluster!r} is not in LMS_CLUSTERS")
    try:
        _, after = upgrade_home(cluster, home, app_role=app_role)
        copy_registry_row(platform_owner, cluster, home)
    except Exception as exc:  # reported; the other homes go on
        original = getattr(exc, "orig", None) or exc
        return HomeState(slug, home, None, (str(original).strip().splitlines() or [type(original).__name__])[0])
    return HomeState(slug, home, after)
