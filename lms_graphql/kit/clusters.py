"""The database servers tenants' homes live on, each in a region.

``main`` is the platform's own server (LMS_DATABASE_URL, or the embedded one), in LMS_REGION.
LMS_CLUSTERS names more: whitespace-separated ``name@region=postgresql://owner@host/db``. The
URL is the cluster's owner login (it creates bridge schemas and silo databases and migrates
them); the app role's login there is derived from it as it is on main. A bridge on a cluster
lives in the URL's database, a silo in a database of its own beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import URL

from lms_graphql.config import Settings
from lms_graphql.kit.db import Database, DatabaseUrls, derive_app_password, normalize_url
from lms_graphql.kit.homes import MAIN_CLUSTER
from lms_graphql.models.tenant import REGIONS

DEFAULT_REGION = "eu-west-1"


class ClusterConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Cluster:
    name: str
    region: str
    app: URL  # serves, as the app role
    owner: URL | None  # provisions and migrates; None in a process holding the app login only


def parse_cluster_list(raw: str) -> list[tuple[str, str, str]]:
    """``name@region=url`` entries: (name, region, url)."""
    entries: list[tuple[str, str, str]] = []
    for entry in raw.split():
        label, sep, url = entry.partition("=")
        name, at, region = label.partition("@")
        if not sep or not at or not name or not url:
            raise ClusterConfigError(f"LMS_CLUSTERS entry {entry[:40]!r} is not name@region=postgresql://...")
        if region not in REGIONS:
            raise ClusterConfigError(f"LMS_CLUSTERS: region {region!r} of {name!r} is not one of {', '.join(REGIONS)}")
        if name == MAIN_CLUSTER or any(name == seen for seen, _, _ in entries):
            raise ClusterConfigError(f"LMS_CLUSTERS: cluster name {name!r} is used twice (main is the platform's)")
        entries.append((name, region, url))
    return entries


def clusters_for(settings: Settings, main_app: URL, main_owner: URL | None) -> dict[str, Cluster]:
    """Every cluster this process may route to: main, then LMS_CLUSTERS."""
    clusters = {MAIN_CLUSTER: Cluster(MAIN_CLUSTER, settings.region, main_app, main_owner)}
    for name, region, raw in parse_cluster_list(settings.clusters):
        try:
            owner = normalize_url(raw)
        except ValueError as exc:
            raise ClusterConfigError(f"LMS_CLUSTERS: {name}: {exc}") from None
        app = owner.set(username=settings.app_role, password=derive_app_password(owner, settings.app_role))
        clusters[name] = Cluster(name, region, app, owner)
    return clusters


def open_database(settings: Settings, urls: DatabaseUrls, **options: Any) -> Database:
    """The app role's engines on every cluster (``options``: Database's pool settings)."""
    return Database(urls.app, clusters=clusters_for(settings, urls.app, urls.owner), **options)
