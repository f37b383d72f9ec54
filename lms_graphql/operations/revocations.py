"""Revoked tokens close websockets in every process, at once.

A commit that revoked users' tokens (a role change, a deactivation, a password change) and a
tenant's deactivation publish on the control bus (NOTIFY on the database, which every process
and the CLI share); every process closes its affected sockets. The feed
is followed for the app's lifetime: when it ends (the bus dropped it) it is followed again,
and after anything may have been missed (RESYNC, a restart) every open socket is authorised
again, so a lost message cannot leave a revoked socket open. Every operation on a socket is
authorised anyway (runner.py); this is what closes the idle ones.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

from lms_graphql.context import Services
from lms_graphql.events.bus import RESYNC
from lms_graphql.kit import channels
from lms_graphql.kit.transaction import PerUseTransactions
from lms_graphql.operations.authorise import current_tenant, load_viewer
from lms_graphql.tenancy.features import LIVE_UPDATES, has_feature
from lms_graphql.tenancy.resolution import ResolutionError

LIVE_UPDATES_OFF = "live updates are switched off for this organisation"
log = logging.getLogger("lms_graphql.sockets")

PUBLISH_TIMEOUT_SECONDS = 5.0
REFOLLOW_DELAY_SECONDS = 1.0


async def follow(
    services: Services,
    channel: str,
    on_message: Callable[[str], Awaitable[None]],
    on_gap: Callable[[], Awaitable[None]],
) -> None:
    """Handle ``channel``'s messages for as long as the app runs; ``on_gap`` after anything may
    have been missed (a bus reconnect, or this feed being dropped and followed again)."""
    first = True
    while True:
        try:
            async with services.control.subscribe([channel]) as subscription:
                if not first:
                    await on_gap()
                first = False
                async for message in subscription:
                    if message is RESYNC:
                        await on_gap()
                    elif isinstance(message, str):
                        await on_message(message)
            log.warning("the %s feed was closed (%s); following it again", channel, subscription.closed_reason)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the %s feed failed; following it again", channel)
        await asyncio.sleep(REFOLLOW_DELAY_SECONDS)


async def close_revoked_sockets(services: Services, message: str) -> None:
    parsed = channels.parse_revocation_message(message)
    if parsed is not None:
        await services.sockets.revoke(*parsed)


async def authorise_open_sockets(services: Services) -> None:
    """Every open socket of this process, checked against its user row and tenant now."""
    for socket in services.sockets.all():
        if socket.resolution is None or socket.close_socket is None:
            continue
        try:
            resolution = await current_tenant(services, socket.resolution)
            await load_viewer(services, resolution, PerUseTransactions(services.db, resolution.tenant.id))
        except ResolutionError as exc:
            await socket.close_socket(exc.message)
        except Exception:
            log.warning("could not authorise an open socket again; its next operation will be", exc_info=True)


async def close_sockets_of_switched_off_feeds(services: Services, slug: str) -> int:
    """After a change to the tenant ``slug``: if it no longer has live updates, its open sockets
    here close (their subscriptions would go on otherwise). Looks the tenant up only when this
    process holds sockets in it."""
    sockets = [socket for socket in services.sockets.all() if socket.tenant.slug == slug]
    if not sockets:
        return 0
    tenant = await services.registry.get(slug)
    if tenant is not None and has_feature(tenant, LIVE_UPDATES):
        return 0
    closers = [socket.close_socket(LIVE_UPDATES_OFF) for socket in sockets if socket.close_socket is not None]
    await asyncio.gather(*closers, return_exceptions=True)
    return len(closers)


def publish_after_commit(services: Services, background: set[asyncio.Task[None]]) -> None:
    """After a commit that revoked users' tokens: tell every process. (A tenant's deactivation
    is announced inside its own transaction: TenantRepository.announce.)"""

    def revoked(tenant_id: uuid.UUID, users: frozenset[uuid.UUID]) -> None:
        for user_id in users:
            publish_soon(services, background, tenant_id, user_id, "access revoked: sign in again")

    services.db.on_revoked = revoked


def publish_soon(
    services: Services,
    background: set[asyncio.Task[None]],
    tenant_id: uuid.UUID,
    user_id: uuid.UUID | None,
    reason: str,
) -> None:
    """Publish a revocation without holding up the caller (a bus that is reconnecting could)."""

    async def publish() -> None:
        message = channels.revocation_message(tenant_id, user_id, reason)
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT_SECONDS):
                await services.control.publish(channels.REVOCATIONS, message)
        except Exception:
            log.warning("revocation for tenant %s not published; sockets are authorised per operation", tenant_id)

    task = asyncio.create_task(publish())
    background.add(task)
    task.add_done_callback(background.discard)
