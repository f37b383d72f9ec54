"""Login, user management by admins, RBAC refusals, the tenant's seat limit."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import psycopg
from argon2 import PasswordHasher

from lms_graphql.kit.graphql import coded_errors
from lms_graphql.users.sign_in import LOGIN_FAILED
from tests.support.http import LOGIN, gql, login
from tests.support.people import PASSWORD, PersonFactory, TenantFactory

CREATE_USER = """
mutation($email: String!, $role: Role!) {
  createUser(input: {email: $email, fullName: "New Person", role: $role, password: "long enough pw"}) {
    id email role isActive
  }
}
"""


async def test_wrong_password_unknown_email_and_other_tenant_fail_alike(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    a, b = await make_tenant(), await make_tenant()
    person = await make_user(a)
    attempts = [
        ({"e": person.email, "p": "wrong password"}, a.slug),
        ({"e": "nobody@uni.example", "p": PASSWORD}, a.slug),
        ({"e": person.email, "p": PASSWORD}, b.slug),  # right credentials, wrong tenant
        ({"e": person.email, "p": "x" * 5000}, a.slug),
    ]
    for variables, slug in attempts:
        reply = await gql(client, LOGIN, variables, tenant=slug)
        assert reply.status == 200
        assert reply.codes == ["UNAUTHENTICATED"]
        assert reply.body["errors"][0]["message"] == LOGIN_FAILED
        assert reply.body["data"] is None


async def test_login_is_case_insensitive_on_email_and_rehashes_weak_hashes(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    owner_conn: psycopg.Connection,
) -> None:
    person = await make_user(await make_tenant())
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    owner_conn.execute("UPDATE users SET password_hash = %s WHERE id = %s", (weak, person.id))
    reply = await gql(client, LOGIN, {"e": person.email.upper(), "p": PASSWORD}, tenant=person.tenant.slug)
    assert reply.data["login"]["user"]["id"] == str(person.id)
    row = owner_conn.execute("SELECT password_hash, last_login_at FROM users WHERE id = %s", (person.id,)).fetchone()
    assert row is not None
    assert row[0].startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert row[1] is not None


async def test_admin_creates_users_and_others_may_not(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    tenant = await make_tenant()
    admin = await login(client, await make_user(tenant, "admin"))
    reply = await gql(client, CREATE_USER, {"email": "Fresh@Uni.Example", "role": "INSTRUCTOR"}, token=admin)
    assert reply.data["createUser"] == {
        "id": reply.data["createUser"]["id"],
        "email": "fresh@uni.example",
        "role": "INSTRUCTOR",
        "isActive": True,
    }
    for role in ("student", "instructor"):
        token = await login(client, await make_user(tenant, role))
        reply = await gql(client, CREATE_USER, {"email": f"{role}@x.example", "role": "STUDENT"}, token=token)
        assert reply.codes == ["FORBIDDEN"], role
    reply = await gql(client, CREATE_USER, {"email": "anon@x.example", "role": "STUDENT"}, tenant=tenant.slug)
    assert reply.codes == ["UNAUTHENTICATED"]
    reply = await gql(client, CREATE_USER, {"email": "boss@x.example", "role": "SUPER_ADMIN"}, token=admin)
    assert reply.codes == ["FORBIDDEN"]
    reply = await gql(client, CREATE_USER, {"email": "fresh@uni.example", "role": "STUDENT"}, token=admin)
    assert reply.codes == ["CONFLICT"]
    reply = await gql(client, CREATE_USER, {"email": "not an email", "role": "STUDENT"}, token=admin)
    assert reply.codes == ["BAD_USER_INPUT"]
    reply = await gql(client, CREATE_USER, {"email": "x@y.example", "role": "OWNER"}, token=admin)
    assert reply.codes == ["BAD_USER_INPUT"]


def fullwidth(text: str) -> str:
    """The fullwidth forms (U+FF01...) of printable ASCII: 'a' -> U+FF41."""
    return text.translate({code: code + 0xFEE0 for code in range(0x21, 0x7F)})


async def test_lookalike_emails_are_the_same_account_or_refused(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    tenant = await make_tenant()
    admin = await login(client, await make_user(tenant, "admin"))
    assert (await gql(client, CREATE_USER, {"email": "fresh@uni.example", "role": "STUDENT"}, token=admin)).data
    same_account = [fullwidth("fresh") + "@uni.example", fullwidth("FRESH@UNI") + ".example", " Fresh@Uni.Example "]
    refused = [
        "fr\u0435sh@uni.example",  # Cyrillic e
        "fre\u200bsh@uni.example",  # zero-width space
        "fre\u00adsh@uni.example",  # soft hyphen
        "fresh\u2060@uni.example",  # word joiner
        "fresh@uni.exa\u200dmple",  # zero-width joiner in the domain
        "fresh@un\u0456.example",  # Cyrillic i in a Latin domain label
        "fresh@uni\u0307.example",  # combining dot that NFKC cannot compose
        "josé@uni.example",  # any non-ASCII local part
    ]
    for email in same_account:
        reply = await gql(client, CREATE_USER, {"email": email, "role": "STUDENT"}, token=admin)
        assert reply.codes == ["CONFLICT"], email
    for email in refused:
        reply = await gql(client, CREATE_USER, {"email": email, "role": "STUDENT"}, token=admin)
        assert reply.codes == ["BAD_USER_INPUT"], email
    for email in ("taro@例え.jp", "ivan@пример.рф", "x@café.example"):  # one script per label
        reply = await gql(client, CREATE_USER, {"email": email, "role": "STUDENT"}, token=admin)
        assert reply.data["createUser"]["email"] == email


async def test_login_takes_the_canonical_spelling_and_addresses_stored_before_it(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    owner_conn: psycopg.Connection,
) -> None:
    tenant = await make_tenant()
    person = await make_user(tenant, email="plain@uni.example")
    reply = await gql(client, LOGIN, {"e": fullwidth("PLAIN@") + "uni.example", "p": PASSWORD}, tenant=tenant.slug)
    assert reply.data["login"]["user"]["id"] == str(person.id)
    # Stored before addresses were NFKC normalised: signs in as typed, as it always did.
    legacy = await make_user(tenant, email="legacy@uni.example")
    stored = fullwidth("legacy") + "@uni.example"
    owner_conn.execute("UPDATE users SET email = %s WHERE id = %s", (stored, legacy.id))
    reply = await gql(client, LOGIN, {"e": stored, "p": PASSWORD}, tenant=tenant.slug)
    assert reply.data["login"]["user"]["id"] == str(legacy.id)


async def test_seat_limit_holds_under_parallel_creation(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    owner_conn: psycopg.Connection,
) -> None:
    tenant = await make_tenant(max_users=4)
    admin = await login(client, await make_user(tenant, "admin"))  # seat 1 of 4
    replies = await asyncio.gather(
        *[gql(client, CREATE_USER, {"email": f"p{i}@uni.example", "role": "STUDENT"}, token=admin) for i in range(10)]
    )
    created = [r for r in replies if "errors" not in r.body]
    refused = [r for r in replies if r.codes == ["TENANT_USER_LIMIT"]]
    assert (len(created), len(refused)) == (3, 7)
    row = owner_conn.execute("SELECT count(*) FROM users WHERE tenant_id = %s", (tenant.id,)).fetchone()
    assert row == (4,)


async def test_admin_cannot_lock_themselves_out(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    admin = await make_user(await make_tenant(), "admin")
    token = await login(client, admin)
    for change in ("{isActive: false}", "{role: STUDENT}"):
        reply = await gql(
            client, f"mutation($id: ID!) {{ updateUser(id: $id, input: {change}) {{ id }} }}",
            {"id": str(admin.id)}, token=token,
        )  # fmt: skip
        assert reply.codes == ["FORBIDDEN"], change


async def test_update_user_of_another_tenant_or_malformed_id_is_not_found(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    a, b = await make_tenant(), await make_tenant()
    token = await login(client, await make_user(a, "admin"))
    stranger = await make_user(b)
    for user_id in (str(stranger.id), "not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        reply = await gql(
            client,
            'mutation($id: ID!) { updateUser(id: $id, input: {fullName: "Renamed"}) { id } }',
            {"id": user_id},
            token=token,
        )
        assert reply.codes == ["NOT_FOUND"], user_id


async def test_admin_of_one_tenant_cannot_act_in_another(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    owner_conn: psycopg.Connection,
) -> None:
    a, b = await make_tenant(), await make_tenant()
    token = await login(client, await make_user(a, "admin"))
    reply = await gql(client, CREATE_USER, {"email": "intruder@x.example", "role": "ADMIN"}, token=token, tenant=b.slug)
    assert reply.status == 403
    assert reply.codes == ["TENANT_MISMATCH"]
    assert owner_conn.execute("SELECT count(*) FROM users WHERE tenant_id = %s", (b.id,)).fetchone() == (0,)


def test_unexpected_errors_are_masked_with_the_request_id() -> None:
    from graphql import GraphQLError

    leaked = GraphQLError("boom", original_error=RuntimeError("password=hunter2 at db.internal"))
    (coded,) = coded_errors([leaked], "req-42")
    assert coded.extensions == {"code": "INTERNAL"}
    assert coded.message == "Internal error. Quote request id req-42 when reporting it."


async def test_me_is_null_without_a_token(client: httpx.AsyncClient, make_tenant: TenantFactory) -> None:
    tenant = await make_tenant()
    reply = await gql(client, "{ me { id } tenant { slug name plan isActive maxUsers } }", tenant=tenant.slug)
    assert reply.data == {
        "me": None,
        "tenant": {
            "slug": tenant.slug,
            "name": "Test tenant",
            "plan": "FREE".lower(),
            "isActive": True,
            "maxUsers": 100,
        },
    }


async def test_documents_that_are_wrong_get_bad_user_input(client: Any, make_tenant: TenantFactory) -> None:
    tenant = await make_tenant()
    for query in ("{ nope }", "{ me { id ", "query($x: Int!) { me { id } }"):
        reply = await gql(client, query, tenant=tenant.slug)
        assert reply.codes, query
        assert set(reply.codes) == {"BAD_USER_INPUT"}, query
