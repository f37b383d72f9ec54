"""Names of bus channels and the shape of their messages (ids only; data is re-read)."""

from __future__ import annotations

import json
import uuid

REGISTRY = "registry"  # a tenant changed: message is its slug


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
