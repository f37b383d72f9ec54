"""Registering a tenant in a placement, with its home made and migrated before it is used."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from lms_graphql.audit import service as audit
from lms_graphql.auth.viewer import Viewer
from lms_graphql.errors import ErrorCode, LmsError, bad_input
from lms_graphql.kit.clusters import Cluster
from lms_graphql.kit.db import Database
from lms_graphql.kit.homes import MAIN_CLUSTER, PLACEMENTS, home_for
from lms_graphql.placement.provision import ProvisionError, owner_of
from lms_graphql.placement.upgrades import upgrade_placed_tenant
from lms_graphql.tenancy.service import announce_tenant, create_tenant
from lms_graphql.tenancy.tenant import TenantConfig

log = logging.getLogger("lms_graphql.placement")


def cluster_for(db: Database, placement: str, cluster: str | None, region: str | None) -> Cluster:
    """The cluster a tenant of ``region`` may be placed on: never one outside its region."""
    if placement not in PLACEMENTS:
        raise bad_input(f"unknown placement {placement!r}: one of {', '.join(PLACEMENTS)}")
    name = cluster or MAIN_CLUSTER
    if placement == "pool" and name != MAIN_CLUSTER:
        raise bad_input("the pool is on the main cluster; bridge and silo tenants may live on others")
    found = db.clusters.get(name)
    if found is None:
        raise bad_input(f"unknown cluster {name!r}: one of {', '.join(sorted(db.clusters))} (LMS_CLUSTERS)")
    if region is not None and region != found.region:
        raise bad_input(
            f"cluster {name!r} is in {found.region}: a tenant of {region} may not be placed there (data residency)"
        )
    return found


async def create_placed_tenant(
    db: Database,
    *,
    slug: str,
    name: str,
    plan: str,
    placement: str,
    cluster: str | None = None,
    region: str | None = None,
    max_users: int | None = None,
    app_role: str,
) -> TenantConfig:
    """Register the tenant, then make and migrate its home. A home that fails halfway leaves
    the tenant registered and refused (503) until `lms-graphql migrate` finishes it."""
    target = cluster_for(db, placement, cluster, region)
    if placement != "pool" and db.clusters[MAIN_CLUSTER].owner is None:
        raise bad_input(
            "this server holds the app login only and cannot make schemas or databases: create bridge and silo "
            "tenants with `lms-graphql tenant create --placement`"
        )
    platform_owner = owner_of(db.clusters[MAIN_CLUSTER]) if placement != "pool" else None
    async with db.platform_transaction() as session:
        tenant = await create_tenant(
            session,
            slug=slug,
            name=name,
            plan=plan,
            max_users=max_users,
            placement=placement,
            cluster=target.name,
            region=region or target.region,
        )
        await announce_tenant(session, tenant.slug)
    if platform_owner is not None:
        home = home_for(tenant.id, placement, target.name)
        state = await asyncio.to_thread(
            upgrade_placed_tenant, platform_owner, db.clusters, tenant.slug, home, app_role=app_role
        )
        if state.error is not None:
            raise ProvisionError(f"tenant {slug} is registered, but its home is not ready: {state.error}")
    return tenant


async def create_placed_tenant_as_operator(
    db: Database, viewer: Viewer, *, app_role: str, **tenant: Any
) -> TenantConfig:
    """A platform operator registers a tenant in a placement; the action is recorded in the new
    tenant's audit log, in its home. A home that could not be made answers INTERNAL (retryable:
    `lms-graphql migrate` finishes it)."""
    try:
        created = await create_placed_tenant(db, app_role=app_role, **tenant)
    except ProvisionError as exc:
        log.error("making a tenant's home failed: %s", exc)
        raise LmsError(ErrorCode.INTERNAL, str(exc), retryable=True) from None
    async with db.tenant_transaction(created.id) as session:
        details = {"slug": created.slug, "plan": created.plan, "placement": created.placement}
        await audit.record(session, created.id, viewer, "tenant.create", details)
    return created
