from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, String, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from lms_graphql.models.base import GEN_UUID, Base, created_at_column, one_of, updated_at_column

PLANS = ("free", "pro", "enterprise")
# Feature flags (tenancy/features.py): what each does, and which a plan allows.
CERTIFICATES = "certificates"
LIVE_UPDATES = "live_updates"
REST_API = "rest_api"
PEER_REVIEW = "peer_review"

FEATURES: dict[str, str] = {
    CERTIFICATES: "certificates are issued when a learner completes a course, and can be verified",
    LIVE_UPDATES: "subscriptions over websockets: live notifications and course progress",
    REST_API: "the REST API under /api/v1",
    PEER_REVIEW: "assessments of type PEER_REVIEW",
}

PLAN_FEATURES: dict[str, tuple[str, ...]] = {
    "free": (CERTIFICATES, LIVE_UPDATES, REST_API),
    "pro": (CERTIFICATES, LIVE_UPDATES, REST_API, PEER_REVIEW),
    "enterprise": (CERTIFICATES, LIVE_UPDATES, REST_API, PEER_REVIEW),
}


def plan_features(plan: str) -> tuple[str, ...]:
    return PLAN_FEATURES.get(plan, ())


PLACEMENTS = ("pool", "bridge", "silo")
REGIONS = ("eu-west-1", "us-east-1", "ap-southeast-1")
RESERVED_SLUGS = ("www", "api", "admin", "status")
# A DNS label: the slug is also the tenant's subdomain.
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$"


class Tenant(Base):
    """The tenant registry. Not tenant-owned: it is how a request finds its tenant."""

    __tablename__ = "tenants"
    __table_args__ = (
        CheckConstraint(f"slug ~ '{SLUG_PATTERN}'", name="slug_format"),
        CheckConstraint(f"NOT ({one_of('slug', RESERVED_SLUGS)})", name="slug_not_reserved"),
        CheckConstraint("length(btrim(name)) > 0", name="name_not_blank"),
        CheckConstraint(one_of("plan", PLANS), name="plan_valid"),
        CheckConstraint(one_of("region", REGIONS), name="region_valid"),
        CheckConstraint("max_users > 0", name="max_users_positive"),
        CheckConstraint(one_of("placement", PLACEMENTS), name="placement_valid"),
        CheckConstraint("placement <> 'pool' OR cluster = 'main'", name="pool_on_main"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4, server_default=GEN_UUID)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    plan: Mapped[str] = mapped_column(String(20), server_default="free")
    region: Mapped[str] = mapped_column(String(32), server_default="eu-west-1")
    features: Mapped[list[str]] = mapped_column(ARRAY(String(64)), server_default=text("'{}'"))
    max_users: Mapped[int] = mapped_column(server_default=text("100"))
    is_active: Mapped[bool] = mapped_column(server_default=text("true"))
    # When it was deactivated (None while active): `tenant purge` waits a grace period after it.
    deactivated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    # Where the tenant's rows live (kit/homes.py), on which database server.
    placement: Mapped[str] = mapped_column(String(16), server_default="pool")
    cluster: Mapped[str] = mapped_column(String(63), server_default="main")
    # A move is copying the last writes: the tenant's transactions are read-only meanwhile.
    frozen: Mapped[bool] = mapped_column(server_default=text("false"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
