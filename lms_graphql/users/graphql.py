from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from lms_graphql.auth.permissions import Permission
from lms_graphql.context import Info
from lms_graphql.kit.graphql import require_id
from lms_graphql.users import service


@strawberry.enum
class Role(Enum):
    STUDENT = "student"
    INSTRUCTOR = "instructor"
    ADMIN = "admin"
    SUPER_ADMIN = "super_admin"


@strawberry.type
class User:
    id: strawberry.ID
    email: str
    full_name: str
    role: Role
    avatar_url: str | None
    created_at: datetime
    is_active: bool

    @classmethod
    def from_row(cls, row: Any) -> User:
        return cls(
            id=strawberry.ID(str(row.id)),
            email=row.email,
            full_name=row.full_name,
            role=Role(row.role),
            avatar_url=row.avatar_url,
            created_at=row.created_at,
            is_active=row.is_active,
        )


@strawberry.input
class CreateUserInput:
    email: str
    full_name: str
    role: Role
    password: str


@strawberry.input(description="Changing role or deactivating revokes the user's tokens.")
class UpdateUserInput:
    full_name: str | None = None
    role: Role | None = None
    is_active: bool | None = None


@strawberry.type
class UserQueries:
    @strawberry.field(description="The signed-in user; null without a token.")
    def me(self, info: Info) -> User | None:
        viewer = info.context.viewer
        return User.from_row(viewer.user) if viewer is not None else None


@strawberry.type
class UserMutations:
    @strawberry.mutation(description="Admins create users of their tenant.")
    async def create_user(self, info: Info, input: CreateUserInput) -> User:
        ctx = info.context
        viewer = ctx.require(Permission.USER_MANAGE)
        async with ctx.write() as session:
            user = await service.create_user_as(
                session,
                ctx.tenant,
                viewer,
                email=input.email,
                full_name=input.full_name,
                role=input.role.value,
                password=input.password,
            )
        return User.from_row(user)

    @strawberry.mutation(description="Admins change a user's name, role or active state.")
    async def update_user(self, info: Info, id: strawberry.ID, input: UpdateUserInput) -> User:
        ctx = info.context
        viewer = ctx.require(Permission.USER_MANAGE)
        user_id = require_id(id, "user")
        async with ctx.write() as session:
            user = await service.update_user(
                session,
                ctx.tenant,
                viewer,
                user_id,
                full_name=input.full_name,
                role=input.role.value if input.role else None,
                is_active=input.is_active,
            )
        return User.from_row(user)
