"""Feature flags: what a tenant may use. A plan allows some features; a new tenant starts with all
of them enabled, its admins switch them off and on within the plan, and platform operators may
enable any (a trial, a contract) or change the plan. ``tenants.features`` is the enabled list: the
capability list clients read (Tenant.features), and what the gates below check."""

from __future__ import annotations

from collections.abc import Iterable

from lms_graphql.errors import ErrorCode, LmsError, bad_input
from lms_graphql.models.tenant import (
    CERTIFICATES,
    FEATURES,
    LIVE_UPDATES,
    PEER_REVIEW,
    PLAN_FEATURES,
    REST_API,
    plan_features,
)
from lms_graphql.tenancy.tenant import TenantConfig

__all__ = [
    "CERTIFICATES",
    "FEATURES",
    "LIVE_UPDATES",
    "PEER_REVIEW",
    "PLAN_FEATURES",
    "REST_API",
    "checked_features",
    "has_feature",
    "plan_features",
    "require_feature",
]


def checked_features(names: Iterable[str], allowed: Iterable[str] | None = None) -> list[str]:
    """``names`` as stored: known, each once, in the catalogue's order; ``allowed``: the only
    ones that may be enabled (the plan's, for an admin)."""
    wanted = set(names)
    unknown = sorted(wanted - set(FEATURES))
    if unknown:
        raise bad_input(f"unknown features {', '.join(unknown)}: one of {', '.join(FEATURES)}")
    if allowed is not None:
        beyond = sorted(wanted - set(allowed))
        if beyond:
            raise LmsError(
                ErrorCode.FORBIDDEN,
                f"your plan does not include {', '.join(beyond)}: ask the platform operator",
                features=beyond,
            )
    return [name for name in FEATURES if name in wanted]


def has_feature(tenant: TenantConfig, name: str) -> bool:
    return name in tenant.features


def require_feature(tenant: TenantConfig, name: str) -> None:
    """Refuses, FORBIDDEN, what a disabled feature would do."""
    if name not in tenant.features:
        raise LmsError(
            ErrorCode.FORBIDDEN,
            f"the {name} feature is not enabled for this organisation ({FEATURES[name]})",
            feature=name,
        )
