"""The audit log: every mutation, for the tenant's admins."""

from __future__ import annotations

import json

import httpx

from tests.support.http import LOGIN, gql, login
from tests.support.people import PASSWORD, PersonFactory, TenantFactory

AUDIT = "{ auditLog(first: 50) { edges { node { action outcome actorUserId details } } hasNextPage } }"


async def test_every_mutation_is_audited_for_the_tenants_admins(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    tenant, other = await make_tenant(), await make_tenant()
    admin = await make_user(tenant, "admin")
    person = await make_user(tenant)
    await gql(client, LOGIN, {"e": person.email, "p": "wrong password"}, tenant=tenant.slug)
    student = await login(client, person)
    await gql(
        client,
        'mutation { changePassword(currentPassword: "nope", newPassword: "long enough") { token } }',
        token=student,
    )
    admin_token = await login(client, admin)
    entries = (await gql(client, AUDIT, token=admin_token)).data["auditLog"]["edges"]
    seen = [(e["node"]["action"], e["node"]["outcome"]) for e in entries]
    assert ("login", "UNAUTHENTICATED") in seen
    assert ("login", "OK") in seen
    assert ("changePassword", "BAD_USER_INPUT") in seen
    assert PASSWORD not in json.dumps(entries)
    assert "wrong password" not in json.dumps(entries)
    failed_login = next(e["node"] for e in entries if e["node"]["outcome"] == "UNAUTHENTICATED")
    assert failed_login["details"]["variables"]["p"] == "[redacted]"
    assert (await gql(client, AUDIT, token=student)).codes == ["FORBIDDEN"]
    foreign_admin = await login(client, await make_user(other, "admin"))
    theirs = (await gql(client, AUDIT, token=foreign_admin)).data["auditLog"]["edges"]
    assert all(e["node"]["actorUserId"] != str(person.id) for e in theirs)
