"""Charging an operation's cost to its tenant's and its user's buckets (per minute, by plan):
the same buckets for GraphQL (limits/extension.py) and REST (rest/runner.py)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from lms_graphql.context import Charge
from lms_graphql.errors import ErrorCode, LmsError
from lms_graphql.limits.plans import PlanLimits

log = logging.getLogger("lms_graphql.limits")


async def charge(
    limiter: Any, limits: PlanLimits, tenant_id: uuid.UUID, who: str, charged: int, cost: int, request_id: str
) -> Charge:
    """What was charged and what remains; RATE_LIMITED (with retryAfter) when either bucket is
    empty. ``who``: the user's id, or ``ip:<address>`` for an anonymous request."""
    tenant_budget, user_budget = limits.tenant_cost_per_minute, limits.user_cost_per_minute
    try:
        tenant = await limiter.take(f"cost:t:{tenant_id}", charged, tenant_budget, tenant_budget / 60)
        user = await limiter.take(f"cost:u:{tenant_id}:{who}", charged, user_budget, user_budget / 60)
    except Exception:
        # The limiter's store (Redis) is unreachable: serve rather than fail every request.
        log.warning("rate limiter unavailable; request %s not charged", request_id, exc_info=True)
        return Charge(charged)
    remaining = min(tenant.remaining, user.remaining)
    if tenant.allowed and user.allowed:
        return Charge(charged, remaining)
    retry_after = max(tenant.retry_after, user.retry_after)
    whose = "this tenant's" if not tenant.allowed else "your"
    raise RateLimited(
        Charge(charged, remaining, retry_after),
        f"{whose} query budget is used up; retry in {retry_after} s",
        retryAfter=retry_after,
        cost=cost,
    )


class RateLimited(LmsError):
    def __init__(self, charged: Charge, message: str, **details: object) -> None:
        super().__init__(ErrorCode.RATE_LIMITED, message, **details)
        self.charged = charged
