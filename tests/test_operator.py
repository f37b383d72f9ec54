"""The platform operator (super_admin): tenants, and audited action inside other tenants."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest

from tests.support.http import gql, login
from tests.support.people import Person, PersonFactory, TenantFactory, unique_slug

CREATE_TENANT = """
mutation($slug: String!, $plan: String! = "pro") {
  createTenant(input: {slug: $slug, name: "New University", plan: $plan, maxUsers: 50}) {
    id slug plan maxUsers
  }
}
"""


@pytest.fixture
async def operator(make_tenant: TenantFactory, make_user: PersonFactory) -> Person:
    return await make_user(await make_tenant(plan="enterprise"), "super_admin")


async def test_operator_creates_a_tenant_that_resolves_at_once(
    client: httpx.AsyncClient, operator: Person, owner_conn: psycopg.Connection
) -> None:
    token = await login(client, operator)
    slug = unique_slug("new")
    assert (await gql(client, "{ tenant { slug } }", tenant=slug)).status == 404  # remembered as missing
    reply = await gql(client, CREATE_TENANT, {"slug": slug}, token=token)
    created = reply.data["createTenant"]
    assert (created["slug"], created["plan"], created["maxUsers"]) == (slug, "pro", 50)
    assert (await gql(client, "{ tenant { slug } }", tenant=slug)).data == {"tenant": {"slug": slug}}
    audit = owner_conn.execute(
        "SELECT actor_tenant_id, actor_user_id, action FROM audit_log WHERE tenant_id = %s", (created["id"],)
    ).fetchall()
    assert audit == [(operator.tenant.id, operator.id, "tenant.create")]


async def test_tenant_creation_validates_and_is_operator_only(
    client: httpx.AsyncClient, operator: Person, make_user: PersonFactory
) -> None:
    token = await login(client, operator)
    for slug, plan, code in (("www", "pro", "BAD_USER_INPUT"), ("ok-slug", "gold", "BAD_USER_INPUT")):
        assert (await gql(client, CREATE_TENANT, {"slug": slug, "plan": plan}, token=token)).codes == [code]
    taken = unique_slug()
    assert "errors" not in (await gql(client, CREATE_TENANT, {"slug": taken}, token=token)).body
    assert (await gql(client, CREATE_TENANT, {"slug": taken}, token=token)).codes == ["CONFLICT"]
    admin = await login(client, await make_user(operator.tenant, "admin"))
    assert (await gql(client, CREATE_TENANT, {"slug": unique_slug()}, token=admin)).codes == ["FORBIDDEN"]


async def test_operator_acts_in_another_tenant_explicitly_and_is_audited(
    client: httpx.AsyncClient, operator: Person, make_tenant: TenantFactory, owner_conn: psycopg.Connection
) -> None:
    token = await login(client, operator)
    target = await make_tenant()
    reply = await gql(
        client,
        'mutation { createUser(input: {email: "dean@uni.example", fullName: "Dean", role: ADMIN, '
        'password: "long enough pw"}) { id } } ',
        token=token,
        tenant=target.slug,
    )
    user_id = reply.data["createUser"]["id"]
    assert (await gql(client, "{ tenant { slug } me { id } }", token=token, tenant=target.slug)).data == {
        "tenant": {"slug": target.slug},
        "me": {"id": str(operator.id)},
    }
    rows = owner_conn.execute(
        "SELECT tenant_id, actor_tenant_id, actor_user_id, action, details->>'outcome' FROM audit_log "
        "WHERE tenant_id = %s",
        (target.id,),
    ).fetchall()
    assert rows == [(target.id, operator.tenant.id, operator.id, "createUser", "OK")]
    assert user_id
    # Without an explicit tenant the operator's token resolves to its own tenant.
    assert (await gql(client, "{ tenant { slug } }", token=token)).data == {"tenant": {"slug": operator.tenant.slug}}


async def test_a_demoted_operator_cannot_cross_tenants(
    client: httpx.AsyncClient, operator: Person, make_tenant: TenantFactory, owner_conn: psycopg.Connection
) -> None:
    token = await login(client, operator)
    owner_conn.execute("UPDATE users SET role = 'admin' WHERE id = %s", (operator.id,))
    reply = await gql(client, "{ me { id } }", token=token, tenant=(await make_tenant()).slug)
    assert reply.status == 403
    assert reply.codes == ["TENANT_MISMATCH"]


async def test_deactivating_a_tenant_shuts_its_door(
    client: httpx.AsyncClient, operator: Person, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    token = await login(client, operator)
    target = await make_tenant()
    member = await login(client, await make_user(target))
    mutation = "mutation($id: ID!) { %s(id: $id) { isActive } }"
    reply = await gql(client, mutation % "deactivateTenant", {"id": str(target.id)}, token=token)
    assert reply.data == {"deactivateTenant": {"isActive": False}}
    assert (await gql(client, "{ me { id } }", token=member)).status == 404
    assert (await gql(client, "{ tenant { slug } }", tenant=target.slug)).status == 404
    reply = await gql(client, mutation % "activateTenant", {"id": str(target.id)}, token=token)
    assert reply.data == {"activateTenant": {"isActive": True}}
    assert (await gql(client, "{ me { id } }", token=member)).status == 200
    own = await gql(client, mutation % "deactivateTenant", {"id": str(operator.tenant.id)}, token=token)
    assert own.codes == ["FORBIDDEN"]
    for missing in ("00000000-0000-0000-0000-000000000000", "garbage"):
        assert (await gql(client, mutation % "activateTenant", {"id": missing}, token=token)).codes == ["NOT_FOUND"]


async def test_only_an_operator_grants_super_admin(
    client: httpx.AsyncClient, operator: Person, make_user: PersonFactory, app: Any
) -> None:
    token = await login(client, operator)
    reply = await gql(
        client,
        'mutation { createUser(input: {email: "op2@uni.example", fullName: "Op", role: SUPER_ADMIN, '
        'password: "long enough pw"}) { role } }',
        token=token,
    )
    assert reply.data == {"createUser": {"role": "SUPER_ADMIN"}}
