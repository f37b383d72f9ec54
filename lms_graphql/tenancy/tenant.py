"""TenantConfig: the immutable view of a registry row that requests carry (seed)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from lms_graphql import models
from lms_graphql.errors import bad_input
from lms_graphql.models.tenant import PLANS, RESERVED_SLUGS, SLUG_PATTERN

_SLUG = re.compile(SLUG_PATTERN)


@dataclass(frozen=True)
class TenantConfig:
    id: uuid.UUID
    slug: str
    name: str
    plan: str
    region: str
    placement: str
    features: tuple[str, ...] = ()
    max_users: int = 100
    is_active: bool = True
    settings: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    cluster: str = "main"

    @classmethod
    def from_row(cls, row: models.Tenant) -> TenantConfig:
        return cls(
            id=row.id,
            slug=row.slug,
            name=row.name,
            plan=row.plan,
            region=row.region,
            placement=row.placement,
            features=tuple(row.features),
            max_users=row.max_users,
            is_active=row.is_active,
            settings=dict(row.settings),
            cluster=row.cluster,
        )


def is_valid_slug(slug: str) -> bool:
    return 2 <= len(slug) <= 63 and _SLUG.match(slug) is not None


def validate_slug(slug: str) -> str:
    if not is_valid_slug(slug):
        raise bad_input(
            f"invalid tenant slug {slug!r}: use 2-63 lowercase letters, digits and hyphens, "
            "starting and ending with a letter or digit"
        )
    if slug in RESERVED_SLUGS:
        raise bad_input(f"tenant slug {slug!r} is reserved ({', '.join(RESERVED_SLUGS)})")
    return slug


def validate_plan(plan: str) -> str:
    if plan not in PLANS:
        raise bad_input(f"invalid plan {plan!r}: one of {', '.join(PLANS)}")
    return plan


def validate_name(name: str, *, what: str = "name", max_length: int = 255) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise bad_input(f"{what} must not be empty")
    if len(cleaned) > max_length:
        raise bad_input(f"{what} must be at most {max_length} characters")
    return cleaned
