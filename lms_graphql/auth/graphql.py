from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from lms_graphql.context import Context, Info
from lms_graphql.errors import ErrorCode, LmsError
from lms_graphql.users import sign_in as service
from lms_graphql.users.graphql import User

# Sign-in attempts per client address, and per account from one address (15 minutes): a
# guesser is slowed down without locking the account's owner out from elsewhere.
LOGIN_WINDOW_SECONDS = 900
LOGINS_PER_ADDRESS = 1_000
LOGINS_PER_ACCOUNT_AND_ADDRESS = 10


async def throttle_login(ctx: Context, email: str) -> None:
    client = getattr(ctx.request, "client", None)
    address = client.host if client is not None else "unknown"
    limiter = ctx.services.limiter
    account = f"login:a:{ctx.tenant.id}:{email.strip().lower()[:255]}:{address}"
    decisions = [
        await limiter.take(f"login:ip:{address}", 1, LOGINS_PER_ADDRESS, LOGINS_PER_ADDRESS / LOGIN_WINDOW_SECONDS),
        await limiter.take(
            account, 1, LOGINS_PER_ACCOUNT_AND_ADDRESS, LOGINS_PER_ACCOUNT_AND_ADDRESS / LOGIN_WINDOW_SECONDS
        ),
    ]
    if not all(decision.allowed for decision in decisions):
        retry_after = max(decision.retry_after for decision in decisions)
        raise LmsError(
            ErrorCode.RATE_LIMITED, f"too many sign-in attempts; retry in {retry_after} s", retryAfter=retry_after
        )


@strawberry.type(description="A signed-in session: send the token as `Authorization: Bearer <token>`.")
class AuthPayload:
    token: str = strawberry.field(
        description="An HS256 JWT for this tenant, valid for 8 hours. It stops working earlier when the user's "
        "password or role changes or the user is deactivated."
    )
    expires_at: datetime = strawberry.field(description="When the token expires (UTC).")
    user: User = strawberry.field(description="The signed-in user.")

    @classmethod
    def from_issued(cls, issued: service.IssuedToken) -> AuthPayload:
        return cls(token=issued.token, expires_at=issued.expires_at, user=User.from_row(issued.user))


@strawberry.type
class AuthMutations:
    @strawberry.mutation(
        description="Sign in to the request's tenant; needs no token. The token is valid for 8 hours. Errors: "
        "UNAUTHENTICATED for an unknown email, a wrong password or an inactive account alike; RATE_LIMITED after "
        "1 000 attempts from one address, or 10 for one account from one address, within 15 minutes "
        "(extensions.retryAfter: seconds)."
    )
    async def login(
        self,
        info: Info,
        email: Annotated[str, strawberry.argument(description="The account's email address (any case).")],
        password: Annotated[str, strawberry.argument(description="The account's password.")],
    ) -> AuthPayload:
        ctx = info.context
        await throttle_login(ctx, email)
        async with ctx.write() as session:
            issued = await service.login(session, ctx.tenant, ctx.services.tokens, email=email, password=password)
        return AuthPayload.from_issued(issued)

    @strawberry.mutation(
        description="Change the signed-in user's password. Tokens issued before the change stop working; a new one "
        "is returned. Errors: UNAUTHENTICATED without a token; FORBIDDEN for a platform operator visiting another "
        "tenant; BAD_USER_INPUT when the current password is wrong or the new one is not 8-1024 characters."
    )
    async def change_password(
        self,
        info: Info,
        current_password: Annotated[str, strawberry.argument(description="The password in use now.")],
        new_password: Annotated[str, strawberry.argument(description="The new password, 8-1024 characters.")],
    ) -> AuthPayload:
        ctx = info.context
        viewer = ctx.require_viewer()
        async with ctx.write() as session:
            issued = await service.change_password(
                session,
                ctx.tenant,
                ctx.services.tokens,
                viewer,
                current_password=current_password,
                new_password=new_password,
            )
        return AuthPayload.from_issued(issued)
