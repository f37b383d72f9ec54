"""Names of bus channels and the shape of their messages (ids only; data is re-read)."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

REGISTRY = "registry"  # a tenant changed: message is its slug
DOCUMENTS = "documents"  # registered documents changed: message is the tenant's id, or "platform"


def course(tenant_id: uuid.UUID, course_id: uuid.UUID) -> str:
    return f"course.{tenant_id}.{course_id}"


def user(tenant_id: uuid.UUID, user_id: uuid.UUID) -> str:
    return f"user.{tenant_id}.{user_id}"


def all_users(tenant_id: uuid.UUID) -> str:
    """Notifications sent to too many users to name each on the bus."""
    return f"users.{tenant_id}"


def event_message(event_id: uuid.UUID, event_type: str) -> str:
    return json.dumps({"event": str(event_id), "type": event_type}, separators=(",", ":"))


def parse_event_message(message: str) -> tuple[uuid.UUID, str] | None:
    try:
        data = json.loads(message)
        return uuid.UUID(data["event"]), str(data["type"])
    except (ValueError, KeyError, TypeError):
        return None


REVOCATIONS = "revocations"  # tokens revoked: message from revocation_message


def revocation_message(tenant_id: uuid.UUID, user_id: uuid.UUID | None, reason: str) -> str:
    """A user's tokens (or, without a user, every token of the tenant) stopped working."""
    return json.dumps(
        {"tenant": str(tenant_id), "user": str(user_id) if user_id else None, "reason": reason}, separators=(",", ":")
    )


def parse_revocation_message(message: str) -> tuple[uuid.UUID, uuid.UUID | None, str] | None:
    try:
        data = json.loads(message)
        user = uuid.UUID(data["user"]) if data["user"] is not None else None
        return uuid.UUID(data["tenant"]), user, str(data["reason"])
    except (ValueError, KeyError, TypeError):
        return None


# LISTEN/NOTIFY wire channels: live events (when LMS_BROADCAST_URL is postgres), and the control
# messages (registry changes, revocations) that every process and the CLI exchange through the
# database, whatever carries the live events.
WIRE_CHANNEL = "lms_bus"
CONTROL_WIRE_CHANNEL = "lms_control"
# NOTIFY payloads must stay under 8000 bytes: messages carry ids, never data.
MAX_PAYLOAD = 7_900


def pack(channel: str, message: str) -> str:
    packed = json.dumps({"c": channel, "m": message}, separators=(",", ":"))
    if len(packed.encode()) > MAX_PAYLOAD:
        raise ValueError(f"bus message on {channel} too large ({len(packed)} bytes): send ids, not data")
    return packed


async def announce(session: AsyncSession, payload: str) -> None:
    """NOTIFY every process on the control channel when ``session``'s transaction commits. The
    processes listen on the platform database: a transaction in another (a silo's) leaves it to
    Database.tenant_transaction to send right after its commit."""
    home = session.info.get("home")
    if home is None or home.on_platform_database:
        await session.execute(NOTIFY, {"wire": CONTROL_WIRE_CHANNEL, "payload": payload})
    else:
        session.info.setdefault("control_notices", []).append((CONTROL_WIRE_CHANNEL, payload))


NOTIFY = text("SELECT pg_notify(:wire, :payload)")
