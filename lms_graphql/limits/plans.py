"""Limits per plan, with per-tenant overrides in the tenant's settings ({"limits": {...}}).

Defaults sit where Canvas, GitHub and GraphQL Armor put theirs: depth 10-15, aliases 15-30,
a few thousand tokens, pages of at most 100. Cost is a pessimistic count of returned objects
(lists assumed 10 long, pages as asked): the contract's full student dashboard estimates at
about 10 000, a catalogue page at a few hundred; the per-minute budgets allow a user ten full
dashboards a minute on the free plan.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from lms_graphql.tenancy.tenant import TenantConfig


@dataclass(frozen=True)
class PlanLimits:
    max_depth: int
    max_aliases: int
    max_tokens: int
    max_cost: int  # one operation
    # Token buckets of query cost, refilled per minute.
    tenant_cost_per_minute: int
    user_cost_per_minute: int
    statement_timeout_ms: int
    # Concurrent database transactions one tenant may hold in one process.
    concurrent_transactions: int


PLAN_LIMITS: dict[str, PlanLimits] = {
    "free": PlanLimits(10, 15, 2_000, 20_000, 1_000_000, 100_000, 2_000, 3),
    "pro": PlanLimits(12, 20, 4_000, 50_000, 5_000_000, 200_000, 5_000, 5),
    "enterprise": PlanLimits(15, 30, 5_000, 100_000, 20_000_000, 500_000, 10_000, 8),
}


def limits_for(tenant: TenantConfig) -> PlanLimits:
    base = PLAN_LIMITS.get(tenant.plan, PLAN_LIMITS["free"])
    overrides: Any = tenant.settings.get("limits") if isinstance(tenant.settings, dict) else None
    if not isinstance(overrides, dict):
        return base
    names = {field.name for field in fields(PlanLimits)}
    valid = {k: v for k, v in overrides.items() if k in names and isinstance(v, int) and v > 0}
    return replace(base, **valid)
