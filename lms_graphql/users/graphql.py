from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry

from lms_graphql.auth.permissions import Permission
from lms_graphql.context import Info
from lms_graphql.kit.graphql import require_id
from lms_graphql.users import service


@strawberry.enum(description="What a user may do. Roles are cumulative: each has every right of the ones before it.")
class Role(Enum):
    _value_: str  # for mypy: @strawberry.enum unwraps each enum_value, so members hold the string
    STUDENT = strawberry.enum_value(
        "student",
        description="Sees published courses, enrolls, tracks their own progress, submits assessments, and sees "
        "their own grades, certificates and notifications.",
    )
    INSTRUCTOR = strawberry.enum_value(
        "instructor",
        description="A student's rights, plus: creates courses, edits their own courses with their content and "
        "assessments, grades their submissions, sees their students, analytics and live progress.",
    )
    ADMIN = strawberry.enum_value(
        "admin",
        description="An instructor's rights on every course of the tenant, plus: manages users (and erases or "
        "exports their data), configures the tenant, sees the tenant overview and the audit log.",
    )
    SUPER_ADMIN = strawberry.enum_value(
        "super_admin",
        description="Platform operator: an admin's rights in any tenant it names explicitly (subdomain or "
        "X-Tenant-ID), plus registering, deactivating and reactivating tenants, changing their plans, limits and "
        "feature flags, and reading every tenant's usage.",
    )


@strawberry.type(description="An account of the tenant. A user belongs to exactly one tenant.")
class User:
    id: strawberry.ID = strawberry.field(description="Opaque id of the user.")
    email: str = strawberry.field(
        description="The sign-in address, as stored: NFKC-normalised and lowercased, unique within the tenant."
    )
    full_name: str = strawberry.field(description="The name shown to others (1-255 characters).")
    role: Role = strawberry.field(description="The current role: it decides what the user may do.")
    avatar_url: str | None = strawberry.field(description="URL of the user's picture; null when there is none.")
    created_at: datetime = strawberry.field(description="When the account was created (UTC).")
    is_active: bool = strawberry.field(
        description="False once an admin deactivated the account: it cannot sign in and its tokens are refused."
    )

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


@strawberry.input(description="A new account of the request's tenant.")
class CreateUserInput:
    email: str = strawberry.field(
        description="The sign-in address, unique within the tenant (at most 255 characters). Stored NFKC-normalised "
        "and lowercased; invisible characters, a non-ASCII part before the @ and a domain label mixing scripts are "
        "refused."
    )
    full_name: str = strawberry.field(description="The name shown to others, 1-255 characters after trimming.")
    role: Role = strawberry.field(description="The new user's role; only a platform operator may grant SUPER_ADMIN.")
    password: str = strawberry.field(description="The initial password, 8-1024 characters.")


@strawberry.input(
    description="Changes to a user; null or omitted fields stay as they are. Changing the role or the active state "
    "revokes the user's tokens (and closes their websockets)."
)
class UpdateUserInput:
    full_name: str | None = strawberry.field(default=None, description="The new name, 1-255 characters.")
    role: Role | None = strawberry.field(
        default=None,
        description="The new role. Admins cannot change their own; only a platform operator may grant or change "
        "SUPER_ADMIN.",
    )
    is_active: bool | None = strawberry.field(
        default=None,
        description="False deactivates the account (not your own); true reactivates it, within the tenant's maxUsers.",
    )


@strawberry.type
class UserQueries:
    @strawberry.field(description="The signed-in user; null when the request carries no token.")
    def me(self, info: Info) -> User | None:
        viewer = info.context.viewer
        return User.from_row(viewer.user) if viewer is not None else None


@strawberry.type
class UserMutations:
    @strawberry.mutation(
        description="Admins create a user of the request's tenant. Errors: UNAUTHENTICATED without a token; "
        "FORBIDDEN for roles below admin, or granting SUPER_ADMIN without being a platform operator; "
        "BAD_USER_INPUT for an invalid email, name or password; CONFLICT when the email is taken in this tenant; "
        "TENANT_USER_LIMIT when the tenant already has maxUsers active users."
    )
    async def create_user(
        self, info: Info, input: Annotated[CreateUserInput, strawberry.argument(description="The new user.")]
    ) -> User:
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

    @strawberry.mutation(
        description="Admins change a user's name, role or active state. Errors: UNAUTHENTICATED without a token; "
        "FORBIDDEN for roles below admin, for your own role or deactivating yourself, and for granting or changing "
        "SUPER_ADMIN without being a platform operator; NOT_FOUND for an unknown id; BAD_USER_INPUT for an invalid "
        "name; TENANT_USER_LIMIT when reactivating would exceed maxUsers."
    )
    async def update_user(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The user to change.")],
        input: Annotated[UpdateUserInput, strawberry.argument(description="What to change.")],
    ) -> User:
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
