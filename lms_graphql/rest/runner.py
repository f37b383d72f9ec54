"""Running one REST call as GraphQL runs an operation (operations/runner.py): the tenant the
resolution middleware found, the viewer checked against the user row now, one tenant-bound
transaction with the plan's statement timeout and the tenant's share of the pool, a checked
commit."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

from starlette.requests import Request

from lms_graphql.context import Context, Services
from lms_graphql.errors import ErrorCode, LmsError
from lms_graphql.kit.transaction import RequestTransaction
from lms_graphql.limits.charging import charge
from lms_graphql.limits.plans import limits_for
from lms_graphql.operations.middleware import state_of
from lms_graphql.operations.outcome import Outcome
from lms_graphql.operations.runner import authorised_context, transaction_for
from lms_graphql.tenancy.features import REST_API, require_feature

T = TypeVar("T")


def services_of(request: Request) -> Services:
    services: Services = request.app.state.root.state.services  # built in the root app's lifespan
    return services


async def operation(request: Request, work: Callable[[Context], Awaitable[T]], *, cost: int = 1) -> T:
    """``work`` with the call's context; what it wrote is kept only when the commit succeeds.
    ``cost`` is charged to the tenant's and the user's buckets first, the ones GraphQL charges
    (a list costs its page size, one object 1). Raises LmsError (RATE_LIMITED among them),
    ResolutionError (the token no longer holds) and database errors: the app's exception
    handlers turn them into problems."""
    services = services_of(request)
    state = state_of(request.scope)
    resolution = state.resolution
    if resolution is None:  # the resolution middleware answers before: a bug if reached
        raise LmsError(ErrorCode.INTERNAL, "the request has no tenant")
    require_feature(resolution.tenant, REST_API)
    tx = transaction_for(RequestTransaction, services, resolution.tenant)
    try:
        context = await authorised_context(services, resolution, tx, request, state.request_id, None)
        viewer = context.viewer
        if viewer is not None:  # for the access line
            state.outcome = Outcome(200, {}, user=str(viewer.id))
        client = request.client.host if request.client is not None else "unknown"
        who = str(viewer.id) if viewer is not None else f"ip:{client}"
        limits = limits_for(resolution.tenant)
        request.state.charge = await charge(
            services.limiter, limits, resolution.tenant.id, who, max(cost, 1), cost, state.request_id
        )
        services.usage.spent(resolution.tenant.id, max(cost, 1), viewer.id if viewer is not None else None)
        result = await work(context)
        await tx.commit()
        return result
    finally:
        with contextlib.suppress(Exception):  # a broken connection is discarded by the pool
            await tx.rollback()
