"""The signed-in user of an operation, as the database says it is now."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from lms_graphql.auth.permissions import Permission, permissions_of


@dataclass(frozen=True)
class Viewer:
    """The authenticated user as the database says now (not as the token said)."""

    user: Any  # the user's row as loaded for this operation (UserRepository.viewer_row)
    # Set when a platform operator acts in a tenant other than its own.
    home_tenant_id: uuid.UUID
    cross_tenant: bool = False

    @property
    def id(self) -> uuid.UUID:
        user_id: uuid.UUID = self.user.id
        return user_id

    @property
    def role(self) -> str:
        return str(self.user.role)

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions_of(self.user.role)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions
