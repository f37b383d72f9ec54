"""Users as compiled reads write them (see kit/json_plan.py): the User type, and the fields of
other types that point at a user."""

from __future__ import annotations

from lms_graphql.kit import json_sql as js
from lms_graphql.kit.json_plan import FieldSql, column, linked, optional
from lms_graphql.models.tables import USERS

FIELDS: dict[str, dict[str, FieldSql]] = {
    "User": {
        "id": column("user", js.identifier, "id"),
        "email": column("user", js.string, "email"),
        "fullName": column("user", js.string, "full_name"),
        "role": column("user", js.enum, "role"),
        "avatarUrl": column("user", optional(js.string), "avatar_url"),
        "createdAt": column("user", js.timestamp, "created_at"),
        "isActive": column("user", js.boolean, "is_active"),
    },
    "Course": {"instructor": linked(USERS.name, "User", "user", "course", "instructor_id")},
}
