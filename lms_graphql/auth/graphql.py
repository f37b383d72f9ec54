from __future__ import annotations

from datetime import datetime

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
    async def login(self, info: Info, email: str, password: str) -> AuthPayload:
        ctx = info.context
        await throttle_login(ctx, email)
        async with ctx.write() as session:
            issued = await service.login(session, ctx.tenant, ctx.services.tokens, email=email, password=password)
        return AuthPayload.from_issued(issued)

    @strawberry.mutation(description="Tokens issued before the change stop working; a new one is returned.")
    async def change_password(self, info: Info, current_password: str, new_password: str) -> AuthPayload:
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
