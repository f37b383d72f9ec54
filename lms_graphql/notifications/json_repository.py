"""Notifications as compiled reads write them (see kit/json_plan.py): the viewer's own latest,
as NotificationRepository.of_user reads them."""

from __future__ import annotations

from lms_graphql.kit import json_sql as js
from lms_graphql.kit.json_plan import FieldSql, Node, Scope, column, optional, tenant_filter
from lms_graphql.models.tables import NOTIFICATIONS
from lms_graphql.notifications.repository import LIST_LIMIT

FIELDS: dict[str, dict[str, FieldSql]] = {
    "Notification": {
        "id": column("notification", js.identifier, "id"),
        "eventType": column("notification", js.string, "event_type"),
        "title": column("notification", js.string, "title"),
        "body": column("notification", optional(js.string), "body"),
        "payload": column("notification", js.jsonb, "payload"),
        "createdAt": column("notification", js.timestamp, "created_at"),
        "readAt": column("notification", optional(js.timestamp), "read_at"),
        "eventId": column("notification", optional(js.identifier), "event_id"),
    },
}


def my_notifications(node: Node, unread_only: object, scope: Scope) -> str:
    """Query.notifications: the viewer's latest, newest first; with ``unread_only`` those not read."""
    alias = scope.alias("n")
    unread = f" AND {alias}.read_at IS NULL" if unread_only else ""
    latest = (
        f"SELECT * FROM {NOTIFICATIONS.name} {alias} WHERE {tenant_filter(alias)}"
        f" AND {alias}.user_id = %(viewer_id)s{unread} ORDER BY {alias}.created_at DESC, {alias}.id LIMIT {LIST_LIMIT}"
    )
    element = scope.object("Notification", node, {"notification": alias})
    return js.json_array(element, f"FROM ({latest}) {alias}", [f"{alias}.created_at DESC", f"{alias}.id"])
