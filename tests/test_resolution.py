"""Every row of the contract's resolution table, and the precedence between sources."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest

from tests.support.http import app_client, gql, login
from tests.support.people import PersonFactory, TenantFactory

TENANT = "{ tenant { slug } }"


def error(reply_body: dict[str, object]) -> str:
    errors = reply_body["errors"]
    assert isinstance(errors, list)
    return str(errors[0]["extensions"]["code"])


async def test_no_tenant_by_any_means_is_400(client: httpx.AsyncClient) -> None:
    reply = await gql(client, TENANT)
    assert reply.status == 400
    assert error(reply.body) == "TENANT_NOT_RESOLVED"
    assert set(reply.body) == {"errors"}


async def test_unknown_tenant_is_404_by_header_and_by_subdomain(client: httpx.AsyncClient) -> None:
    for kwargs in ({"tenant": "no-such-uni"}, {"host": "no-such-uni.localhost"}, {"tenant": "Not A Slug!"}):
        reply = await gql(client, TENANT, **kwargs)  # type: ignore[arg-type]
        assert reply.status == 404, kwargs
        assert error(reply.body) == "TENANT_NOT_FOUND"


async def test_inactive_tenant_is_404(
    client: httpx.AsyncClient, make_tenant: TenantFactory, owner_conn: psycopg.Connection, app: object
) -> None:
    tenant = await make_tenant()
    owner_conn.execute("UPDATE tenants SET is_active = false WHERE id = %s", (tenant.id,))
    reply = await gql(client, TENANT, tenant=tenant.slug)
    assert reply.status == 404
    assert error(reply.body) == "TENANT_NOT_FOUND"


async def test_token_of_another_tenant_is_403(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    a, b = await make_tenant(), await make_tenant()
    token = await login(client, await make_user(a, "admin"))
    for kwargs in ({"tenant": b.slug}, {"host": f"{b.slug}.localhost:8000"}):
        reply = await gql(client, TENANT, token=token, **kwargs)  # type: ignore[arg-type]
        assert reply.status == 403
        assert error(reply.body) == "TENANT_MISMATCH"


async def test_malformed_token_is_401(client: httpx.AsyncClient, make_tenant: TenantFactory) -> None:
    tenant = await make_tenant()
    for authorization in ("Bearer not.a.jwt", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer a.b"):
        reply = await gql(client, TENANT, tenant=tenant.slug, headers={"Authorization": authorization})
        assert reply.status == 401, authorization
        assert error(reply.body) == "INVALID_TOKEN"


async def test_subdomain_beats_header_beats_token(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    a, b = await make_tenant(), await make_tenant()
    reply = await gql(client, TENANT, host=f"{a.slug}.localhost:8000", tenant=b.slug)
    assert reply.data == {"tenant": {"slug": a.slug}}
    token = await login(client, await make_user(b))
    reply = await gql(client, TENANT, token=token)
    assert reply.data == {"tenant": {"slug": b.slug}}
    reply = await gql(client, TENANT, token=token, tenant=b.slug)
    assert reply.data == {"tenant": {"slug": b.slug}}


async def test_reserved_and_foreign_hosts_are_not_tenants(
    client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    tenant = await make_tenant()
    for host in ("www.localhost", "api.localhost:8000", "admin.localhost", "status.localhost"):
        reply = await gql(client, TENANT, host=host)
        assert reply.status == 400, host
        reply = await gql(client, TENANT, host=host, tenant=tenant.slug)
        assert reply.data == {"tenant": {"slug": tenant.slug}}, host
    for host in (f"{tenant.slug}.evil.example", f"x.{tenant.slug}.localhost", "localhost", "[::1]:8000"):
        assert (await gql(client, TENANT, host=host)).status == 400, host


async def test_probes_and_the_ide_page_need_no_tenant(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/readyz")).status_code == 200
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
    query_by_get = await client.get("/graphql", params={"query": "{ tenant { slug } }"})
    assert query_by_get.status_code == 400


async def test_registry_caches_lookups(client: httpx.AsyncClient, make_tenant: TenantFactory, app: object) -> None:
    tenant = await make_tenant()
    registry = app.state.services.registry  # type: ignore[attr-defined]
    before = registry.lookups
    for _ in range(5):
        assert (await gql(client, TENANT, tenant=tenant.slug)).status == 200
    for _ in range(5):
        assert (await gql(client, TENANT, tenant="missing-tenant-x")).status == 404
    assert registry.lookups - before == 2


async def test_responses_carry_a_request_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "trace-12345678"})
    assert response.headers["x-request-id"] == "trace-12345678"
    generated = await client.get("/healthz", headers={"X-Request-ID": "bad id\x01"})
    assert len(generated.headers["x-request-id"]) == 32


@pytest.mark.parametrize("header", ["x-tenant-id", "X-TENANT-ID"])
async def test_header_name_is_case_insensitive(
    client: httpx.AsyncClient, make_tenant: TenantFactory, header: str
) -> None:
    tenant = await make_tenant()
    reply = await gql(client, TENANT, headers={header: tenant.slug.upper()})
    assert reply.data == {"tenant": {"slug": tenant.slug}}


async def test_the_path_prefix_names_the_tenant_where_it_is_turned_on(
    db: Any, env_for_cli: dict[str, str], make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    tenant, other = await make_tenant(), await make_tenant()
    person = await make_user(tenant)
    ask = {"query": "{ tenant { slug } }"}
    async with app_client(db, env_for_cli, LMS_TENANT_PATH_PREFIX="true") as http:
        asked = await http.post(f"/tenants/{tenant.slug}/graphql", json=ask)
        assert asked.json() == {"data": {"tenant": {"slug": tenant.slug}}}
        token = await login(http, person)
        auth = {"Authorization": f"Bearer {token}"}
        rest = await http.get(f"/tenants/{tenant.slug}/api/v1/courses", headers=auth)
        assert rest.status_code == 200, rest.text
        # The address ranks before the header; a token of another tenant is refused.
        ranked = await http.post(f"/tenants/{tenant.slug}/graphql", json=ask, headers={"X-Tenant-ID": other.slug})
        assert ranked.json()["data"]["tenant"]["slug"] == tenant.slug
        mismatch = await http.get(f"/tenants/{other.slug}/api/v1/courses", headers=auth)
        assert (mismatch.status_code, mismatch.json()["code"]) == (403, "TENANT_MISMATCH")
        unknown = await http.post("/tenants/no-such-tenant/graphql", json=ask)
        assert unknown.status_code == 404
        form = await http.post(
            f"/tenants/{tenant.slug}/graphql", content=b"query=x", headers={"Content-Type": "text/plain"}
        )
        assert form.status_code == 415  # the surface's checks see the path as /graphql
    async with app_client(db, env_for_cli) as off:  # off by default: the prefix is no route at all
        refused = await off.post(f"/tenants/{tenant.slug}/graphql", json=ask, headers={"X-Tenant-ID": tenant.slug})
        assert refused.status_code == 404
