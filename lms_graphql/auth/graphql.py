from __future__ import annotations

from datetime import datetime

import strawberry

from lms_graphql.auth import service
from lms_graphql.context import Context
from lms_graphql.users.graphql import User


@strawberry.type
class AuthPayload:
    token: str
    expires_at: datetime
    user: User

    @classmethod
    def from_issued(cls, issued: service.IssuedToken) -> AuthPayload:
        return cls(token=issued.token, expires_at=issued.expires_at, user=User.from_row(issued.user))


@strawberry.type
class AuthMutations:
    @strawberry.mutation(description="Sign in to the request's tenant. The token is valid for 8 hours.")
    async def login(self, info: strawberry.Info[Context, None], email: str, password: str) -> AuthPayload:
        ctx = info.context
        async with ctx.write("auth.login") as session:
            issued = await service.login(session, ctx.tenant, ctx.services.tokens, email=email, password=password)
        return AuthPayload.from_issued(issued)

    @strawberry.mutation(description="Tokens issued before the change stop working; a new one is returned.")
    async def change_password(
        self, info: strawberry.Info[Context, None], current_password: str, new_password: str
    ) -> AuthPayload:
        ctx = info.context
        viewer = ctx.require_viewer()
        async with ctx.write("auth.change_password") as session:
            issued = await service.change_password(
                session,
                ctx.tenant,
                ctx.services.tokens,
                viewer,
                current_password=current_password,
                new_password=new_password,
            )
        return AuthPayload.from_issued(issued)
