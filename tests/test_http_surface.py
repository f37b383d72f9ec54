"""The HTTP surface of /graphql: media types, body size, batches, GET, refusals with a code."""

from __future__ import annotations

import json

import httpx

from tests.support.people import TenantFactory


async def test_the_http_surface(client: httpx.AsyncClient, make_tenant: TenantFactory) -> None:
    tenant = await make_tenant()
    headers = {"X-Tenant-ID": tenant.slug}

    async def post(content: bytes, content_type: str = "application/json") -> httpx.Response:
        return await client.post("/graphql", content=content, headers={**headers, "Content-Type": content_type})

    huge = await post(b'{"query": "' + b"x" * (20 * 1024 * 1024) + b'"}')
    assert huge.status_code == 413
    assert huge.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    form = await post(b"query={tenant{slug}}", "application/x-www-form-urlencoded")
    assert form.status_code == 415
    assert (await post(b'{"query": "{ tenant { slug } }"}', "text/plain")).status_code == 415
    broken = await post(b'{"query": ')
    assert (broken.status_code, broken.json()["errors"][0]["message"]) == (400, "the request body is not valid JSON")
    batch = await post(json.dumps([{"query": "{ tenant { slug } }"}] * 2).encode())
    assert batch.status_code == 400
    assert "batched" in batch.json()["errors"][0]["message"]
    big_list = {"query": "query($v: [ID!]) { tenant { slug } }", "variables": {"v": ["x"] * 1001}}
    assert (await post(json.dumps(big_list).encode())).status_code == 400
    mutation_by_get = await client.get(
        "/graphql", params={"query": 'mutation { login(email: "a@b.c", password: "x") { token } }'}, headers=headers
    )
    assert mutation_by_get.status_code in (400, 405)
    assert mutation_by_get.json()["errors"]
    for response in (huge, form, broken, batch, mutation_by_get):
        assert len(response.headers["x-request-id"]) >= 8
    fine = await post(b'{"query": "{ tenant { slug } }"}', "application/json; charset=utf-8")
    assert fine.json() == {"data": {"tenant": {"slug": tenant.slug}}}
    assert fine.headers["x-query-cost"] == "2"


async def test_the_root_points_to_graphiql(client: httpx.AsyncClient) -> None:
    response = await client.get("/", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (307, "/graphql")
