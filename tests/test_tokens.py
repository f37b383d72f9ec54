"""Tokens: the seed's claims, and every way of presenting a bad one."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import psycopg
import pytest

from lms_graphql.auth.permissions import permissions_of
from lms_graphql.auth.tokens import LEEWAY, TOKEN_LIFETIME, InvalidTokenError, TokenService
from lms_graphql.config import parse_jwt_keys
from tests.support.http import LOGIN, TEST_JWT_KEYS, gql, login
from tests.support.people import PASSWORD, PersonFactory, TenantFactory

ME = "{ me { id role } }"
KID, SECRET = TEST_JWT_KEYS.split("=", 1)


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def forge(claims: dict[str, Any], *, key: str = SECRET, kid: str | None = KID, algorithm: str = "HS256") -> str:
    headers = {"kid": kid} if kid is not None else None
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers)


async def assert_refused(client: httpx.AsyncClient, token: str, tenant: str | None = None) -> None:
    reply = await gql(client, ME, token=token, tenant=tenant)
    assert reply.status == 401, reply.body
    assert reply.codes == ["INVALID_TOKEN"]


@pytest.fixture
async def member(make_tenant: TenantFactory, make_user: PersonFactory) -> Any:
    return await make_user(await make_tenant(), "instructor")


async def test_login_issues_the_seed_claims(client: httpx.AsyncClient, member: Any) -> None:
    token = await login(client, member)
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "kid": KID, "typ": "JWT"}
    claims = claims_of(token)
    assert claims["sub"] == str(member.id)
    assert claims["tenantId"] == str(member.tenant.id)
    assert claims["tenantSlug"] == claims["aud"] == member.tenant.slug
    assert claims["role"] == "instructor"
    assert claims["permissions"] == sorted(permissions_of("instructor"))
    assert claims["iss"] == "lms-platform"
    assert claims["exp"] - claims["iat"] == 8 * 3600
    reply = await gql(client, ME, token=token)
    assert reply.data == {"me": {"id": str(member.id), "role": "INSTRUCTOR"}}


async def test_alg_none_and_other_algorithms_are_refused(client: httpx.AsyncClient, member: Any) -> None:
    claims = claims_of(await login(client, member))
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "kid": KID}).encode()).rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    await assert_refused(client, f"{header.decode()}.{body.decode()}.")
    await assert_refused(client, forge(claims, key=SECRET * 2, algorithm="HS512"))


async def test_wrong_key_and_unknown_kid_are_refused(client: httpx.AsyncClient, member: Any) -> None:
    claims = claims_of(await login(client, member))
    await assert_refused(client, forge(claims, key="x" * 48))
    await assert_refused(client, forge(claims, kid="retired-key"))
    await assert_refused(client, forge(claims, kid=None))


@pytest.mark.parametrize(
    "change",
    [
        {"exp": datetime.now(UTC) - timedelta(minutes=5)},
        {"exp": None},
        {"iat": None},
        {"sub": None},
        {"iss": "someone-else"},
        {"iss": None},
        {"aud": "another-tenant"},
        {"aud": None},
        {"tv": None},
        {"sub": "not-a-uuid"},
    ],
    ids=[
        "expired",
        "no-exp",
        "no-iat",
        "no-sub",
        "wrong-iss",
        "no-iss",
        "wrong-aud",
        "no-aud",
        "no-tv",
        "bad-sub",
    ],
)
async def test_claim_problems_are_refused(client: httpx.AsyncClient, member: Any, change: dict[str, Any]) -> None:
    claims = claims_of(await login(client, member))
    for name, value in change.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    await assert_refused(client, forge(claims), tenant=member.tenant.slug)


async def test_the_audience_is_the_resolved_tenant_not_the_tokens_own_claim(
    client: httpx.AsyncClient, member: Any, make_tenant: TenantFactory
) -> None:
    claims = claims_of(await login(client, member))
    other = await make_tenant()
    # tenantSlug and aud agree with each other, but not with the tenant the token is used in.
    for slug in ("another-tenant", other.slug):
        forged = forge(claims | {"tenantSlug": slug, "aud": slug})
        await assert_refused(client, forged, tenant=member.tenant.slug)
        await assert_refused(client, forged, tenant=None if slug == other.slug else member.tenant.slug)
    # The tenant as registered: the claim is the slug, not a spelling the header would accept.
    await assert_refused(client, forge(claims | {"aud": member.tenant.slug.upper()}), tenant=member.tenant.slug)
    await assert_refused(client, forge(claims | {"aud": [member.tenant.slug]}), tenant=member.tenant.slug)


async def test_a_token_living_longer_than_tokens_are_issued_for_is_refused(
    client: httpx.AsyncClient, member: Any
) -> None:
    claims = claims_of(await login(client, member))
    now = int(datetime.now(UTC).timestamp())
    await assert_refused(client, forge(claims | {"iat": now - 60, "exp": now + 30 * 24 * 3600}))
    await assert_refused(client, forge(claims | {"iat": now - 9 * 3600, "exp": now + 3600}))
    # The issued lifetime, give or take the leeway, is fine.
    lasting = forge(claims | {"iat": now - 5, "exp": now - 5 + 8 * 3600 + 5})
    assert (await gql(client, ME, token=lasting)).data == {"me": {"id": str(member.id), "role": "INSTRUCTOR"}}


async def test_the_token_version_must_be_an_integer(client: httpx.AsyncClient, member: Any) -> None:
    claims = claims_of(await login(client, member))
    assert claims["tv"] == 0
    for version in ("0", 0.0, False, None, [0]):
        await assert_refused(client, forge(claims | {"tv": version}))


async def test_an_operator_token_elsewhere_has_its_home_tenant_as_audience(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    operator = await make_user(await make_tenant(plan="enterprise"), "super_admin")
    target = await make_tenant()
    claims = claims_of(await login(client, operator))
    assert (await gql(client, ME, token=forge(claims), tenant=target.slug)).data["me"]["id"] == str(operator.id)
    for audience in (target.slug, "another-tenant"):
        await assert_refused(client, forge(claims | {"aud": audience}), tenant=target.slug)


async def test_garbage_is_refused(client: httpx.AsyncClient, member: Any) -> None:
    for garbage in ("garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.", "x" * 5000):
        await assert_refused(client, garbage, tenant=member.tenant.slug)


async def test_forged_role_with_the_original_signature_is_refused(client: httpx.AsyncClient, member: Any) -> None:
    token = await login(client, member)
    header, _, signature = token.split(".")
    claims = claims_of(token) | {"role": "admin", "permissions": sorted(permissions_of("admin"))}
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    await assert_refused(client, f"{header}.{body}.{signature}")


async def test_a_rotated_key_still_verifies(client: httpx.AsyncClient, member: Any, app: Any) -> None:
    from lms_graphql.tenancy.resolution import TenantResolver

    old = TokenService((("2025-old", "o" * 48),))
    token, _ = old.issue(
        user_id=member.id,
        tenant_id=member.tenant.id,
        tenant_slug=member.tenant.slug,
        role="instructor",
        token_version=0,
    )
    await assert_refused(client, token)
    services = app.state.services
    rotated = TokenService(((KID, SECRET), ("2025-old", "o" * 48)))
    resolver = TenantResolver(services.registry, rotated, services.settings.base_domain)
    app.state.services = type(services)(**{**services.__dict__, "tokens": rotated, "resolver": resolver})
    try:
        assert (await gql(client, ME, token=token)).data == {"me": {"id": str(member.id), "role": "INSTRUCTOR"}}
        assert jwt.get_unverified_header(await login(client, member))["kid"] == KID  # the newest signs
    finally:
        app.state.services = services


async def test_token_of_a_deactivated_user_is_refused(
    client: httpx.AsyncClient, member: Any, make_user: PersonFactory
) -> None:
    token = await login(client, member)
    admin = await login(client, await make_user(member.tenant, "admin"))
    reply = await gql(
        client,
        "mutation($id: ID!) { updateUser(id: $id, input: {isActive: false}) { isActive } }",
        {"id": str(member.id)},
        token=admin,
    )
    assert reply.data == {"updateUser": {"isActive": False}}
    await assert_refused(client, token)
    reply = await gql(client, LOGIN, {"e": member.email, "p": PASSWORD}, tenant=member.tenant.slug)
    assert reply.codes == ["UNAUTHENTICATED"]


async def test_token_issued_before_a_password_change_is_refused(client: httpx.AsyncClient, member: Any) -> None:
    old = await login(client, member)
    reply = await gql(
        client,
        "mutation { changePassword("
        'currentPassword: "correct horse battery", newPassword: "new horse battery") { token } }',
        token=old,
    )
    new = reply.data["changePassword"]["token"]
    await assert_refused(client, old)
    assert (await gql(client, ME, token=new)).data["me"]["id"] == str(member.id)
    assert await login(client, member, password="new horse battery")


async def test_a_role_change_revokes_tokens(client: httpx.AsyncClient, member: Any, make_user: PersonFactory) -> None:
    token = await login(client, member)
    admin = await login(client, await make_user(member.tenant, "admin"))
    reply = await gql(
        client,
        "mutation($id: ID!) { updateUser(id: $id, input: {role: STUDENT}) { role } }",
        {"id": str(member.id)},
        token=admin,
    )
    assert reply.data == {"updateUser": {"role": "STUDENT"}}
    await assert_refused(client, token)


async def test_the_database_role_decides_not_the_token(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    owner_conn: psycopg.Connection,
) -> None:
    admin = await make_user(await make_tenant(), "admin")
    token = await login(client, admin)
    # Demoted behind the API's back (no token version bump): the row, not the claim, decides.
    owner_conn.execute("UPDATE users SET role = 'student' WHERE id = %s", (admin.id,))
    reply = await gql(
        client,
        'mutation { createUser(input: {email: "x@uni.example", fullName: "X", role: STUDENT, '
        'password: "long enough"}) { id } }',
        token=token,
    )
    assert reply.codes == ["FORBIDDEN"]
    assert (await gql(client, ME, token=token)).data == {"me": {"id": str(admin.id), "role": "STUDENT"}}


async def test_a_token_checked_before_is_refused_once_it_expires() -> None:
    service = TokenService(parse_jwt_keys([TEST_JWT_KEYS], "tests"))
    # Issued so that it expires (leeway included) one to two seconds from now.
    issued = datetime.now(UTC) - TOKEN_LIFETIME - LEEWAY + timedelta(seconds=2)
    token, _ = service.issue(
        user_id=uuid.uuid4(), tenant_id=uuid.uuid4(), tenant_slug="t", role="student", token_version=0, now=issued
    )
    assert service.decode(token) is service.decode(token)  # checked once, then remembered
    await asyncio.sleep(2.1)
    with pytest.raises(InvalidTokenError, match="expired"):
        service.decode(token)
