"""Where a tenant's rows live: its home.

- ``pool``: the platform database's ``public`` schema, shared by every pooled tenant (RLS).
- ``bridge``: a schema of its own, ``tenant_<id>``, in a cluster's database.
- ``silo``: a database of its own, ``lms_tenant_<id>``, on a cluster.

Every home holds the same tables, made by the same migrations, with the same row-level
security: a bridge or silo tenant's transactions still bind the tenant (defence in depth). A
home's ``tenants`` table holds the rows of the tenants it serves: the pool's is the registry
itself, a bridge's or silo's a copy of its one tenant's registry row (what its foreign keys
and the seat check lock), kept in step by the registry's writers (placement/mirror.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from lms_graphql.models.tenant import PLACEMENTS

__all__ = ["MAIN_CLUSTER", "PLACEMENTS", "POOL", "Home", "home_for"]

MAIN_CLUSTER = "main"


@dataclass(frozen=True)
class Home:
    placement: str
    cluster: str = MAIN_CLUSTER
    tenant_id: uuid.UUID | None = None  # None: the pool, every pooled tenant's home

    def __post_init__(self) -> None:
        if self.placement not in PLACEMENTS:
            raise ValueError(f"unknown placement {self.placement!r}: one of {', '.join(PLACEMENTS)}")
        if (self.placement == "pool") != (self.tenant_id is None):
            raise ValueError("the pool is shared; a bridge or silo home belongs to one tenant")

    @property
    def schema(self) -> str:
        """The schema holding the home's tables."""
        return f"tenant_{self.tenant_id.hex}" if self.placement == "bridge" and self.tenant_id else "public"

    @property
    def database(self) -> str | None:
        """The home's own database (silo); None: the cluster's database."""
        return f"lms_tenant_{self.tenant_id.hex}" if self.placement == "silo" and self.tenant_id else None

    @property
    def on_platform_database(self) -> bool:
        """In the platform's own database: its job queue and NOTIFYs are the platform's."""
        return self.placement != "silo" and self.cluster == MAIN_CLUSTER

    def describe(self) -> str:
        if self.placement == "pool":
            return "pool"
        where = self.database if self.placement == "silo" else self.schema
        return f"{self.placement} {where} on {self.cluster}"


POOL = Home("pool")


def home_for(tenant_id: uuid.UUID, placement: str, cluster: str) -> Home:
    if placement == "pool":
        return POOL
    return Home(placement, cluster, tenant_id)
