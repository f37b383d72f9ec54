"""`lms-graphql tenant purge`: a departed tenant, gone. Only after it was deactivated and a grace
period passed (it can still be reactivated or exported until then); then every stored object under
its prefix, every row of every tenant table in its home (a bridge's schema or a silo's database is
dropped whole), its usage records and its registry row. A check over the database catalog then
counts the tenant's rows in every table that has a tenant_id, in every schema: all must be 0."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL

from lms_graphql.kit.binding import TENANT_SETTING
from lms_graphql.kit.channels import CONTROL_WIRE_CHANNEL, REGISTRY, pack
from lms_graphql.kit.clusters import Cluster
from lms_graphql.kit.homes import POOL, Home, home_for
from lms_graphql.placement.archive import registry_row
from lms_graphql.placement.provision import drop_home, home_url, libpq
from lms_graphql.placement.table_copy import home_connection, purge_rows
from lms_graphql.storage import keys
from lms_graphql.storage.backends import Storage

GRACE = timedelta(days=30)
# Every table with a tenant_id column, in any schema but the system's: what the check counts in.
TENANT_COLUMNS = """
SELECT n.nspname, c.relname FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY 1, 2
"""


class PurgeError(Exception):
    """The purge was refused, or its check found something left."""


@dataclass
class PurgeReport:
    slug: str
    tenant_id: uuid.UUID
    objects_removed: int = 0
    left: dict[str, int] = field(default_factory=dict)  # schema.table -> the tenant's rows found after

    def describe(self) -> str:
        checked = len(self.left)
        return (
            f"tenant {self.slug} ({self.tenant_id}) purged: {self.objects_removed} objects removed; "
            f"0 rows left in each of the {checked} tables with a tenant_id"
        )


def purge_tenant(
    owner_url: URL, clusters: dict[str, Cluster], slug: str, *, grace: timedelta = GRACE, now: datetime | None = None
) -> tuple[uuid.UUID, Home]:
    """Checks and removes the rows; returns the tenant's id and former home (its objects are the
    caller's to remove, then ``verify_purged``)."""
    tenant = registry_row(owner_url, slug=slug)
    if tenant is None:
        raise PurgeError(f"no tenant with slug {slug!r}")
    if tenant["is_active"]:
        raise PurgeError(f"tenant {slug} is active: deactivate it, and purge it once the grace period has passed")
    deactivated = datetime.fromisoformat(tenant["deactivated_at"]) if tenant.get("deactivated_at") else None
    moment = now or datetime.now(UTC)
    if deactivated is None or moment - deactivated < grace:
        since = f"since {deactivated.isoformat()}" if deactivated else "for an unknown time"
        raise PurgeError(
            f"tenant {slug} has been inactive {since}: it may be purged {grace.days} days after its deactivation"
        )
    tenant_id = uuid.UUID(tenant["id"])
    home = home_for(tenant_id, tenant["placement"], tenant["cluster"])
    if home.placement == "pool":
        with home_connection(clusters, home, tenant_id) as conn:
            purge_rows(conn, tenant_id)
            _forget_registry(conn, tenant_id, slug)
            conn.commit()
    else:
        drop_home(clusters[home.cluster], home)
        with home_connection(clusters, POOL, tenant_id) as conn:
            _forget_registry(conn, tenant_id, slug)
            conn.commit()
    return tenant_id, home


def _forget_registry(conn: psycopg.Connection, tenant_id: uuid.UUID, slug: str) -> None:
    conn.execute("DELETE FROM tenants WHERE id = %s", (tenant_id,))  # its usage rows follow (ON DELETE CASCADE)
    conn.execute("SELECT pg_notify(%s, %s)", (CONTROL_WIRE_CHANNEL, pack(REGISTRY, slug)))


async def remove_objects(storage: Storage, tenant_id: uuid.UUID) -> int:
    return await storage.store.delete_prefix(keys.tenant_prefix(tenant_id))


def count_rows(owner_url: URL, tenant_id: uuid.UUID) -> dict[str, int]:
    """The tenant's rows in every table with a tenant_id, in every schema of the database (read
    as the owner, bound to the tenant so that forced row-level security shows its rows)."""
    counts = {}
    with psycopg.connect(libpq(owner_url)) as conn:
        conn.execute("SELECT set_config(%s, %s, false)", (TENANT_SETTING, str(tenant_id)))
        for schema, table in conn.execute(TENANT_COLUMNS).fetchall():
            query = sql.SQL("SELECT count(*) FROM {}.{} WHERE tenant_id = %s").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
            row = conn.execute(query, (tenant_id,)).fetchone()
            counts[f"{schema}.{table}"] = int(row[0]) if row else 0
        registry = conn.execute("SELECT count(*) FROM public.tenants WHERE id = %s", (tenant_id,)).fetchone()
        counts["public.tenants"] = int(registry[0]) if registry else 0
    return counts


def home_exists(clusters: dict[str, Cluster], home: Home) -> bool:
    if home.placement == "pool":
        return False
    cluster = clusters[home.cluster]
    with psycopg.connect(libpq(home_url(cluster, POOL))) as conn:
        if home.database is not None:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (home.database,)).fetchone()
        else:
            found = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (home.schema,)).fetchone()
    return found is not None


async def verify_purged(
    owner_url: URL, clusters: dict[str, Cluster], storage: Storage, slug: str, tenant_id: uuid.UUID, home: Home
) -> PurgeReport:
    report = PurgeReport(slug, tenant_id, left=count_rows(owner_url, tenant_id))
    leftovers = {table: count for table, count in report.left.items() if count}
    if home_exists(clusters, home):
        leftovers[home.database or home.schema] = -1
    objects = await storage.store.keys_under(keys.tenant_prefix(tenant_id))
    if objects:
        leftovers["objects"] = len(objects)
    if leftovers:
        raise PurgeError(f"the purge of {slug} left data behind: {leftovers}")
    return report
