"""The HTTP surface of /graphql: media types, body size, batches, GET, refusals with a code."""

from __future__ import annotations

import json

import httpx

from lms_graphql.errors import ErrorCode
from lms_graphql.operations.outcome import negotiated_media_type, refusal, response_of
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


GRAPHQL_RESPONSE = "application/graphql-response+json"


async def test_graphql_response_media_type(client: httpx.AsyncClient, make_tenant: TenantFactory) -> None:
    """GraphQL over HTTP: application/graphql-response+json when asked for, with request errors
    as 400 and no data entry; application/json (the contract's) keeps its statuses and bodies."""
    tenant = await make_tenant()

    async def post(query: str, accept: str | None, variables: dict[str, object] | None = None) -> httpx.Response:
        headers = {"X-Tenant-ID": tenant.slug, **({"Accept": accept} if accept is not None else {})}
        return await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)

    fine = await post("{ tenant { slug } }", GRAPHQL_RESPONSE)
    assert (fine.status_code, fine.headers["content-type"]) == (200, GRAPHQL_RESPONSE)
    assert fine.json() == {"data": {"tenant": {"slug": tenant.slug}}}
    request_errors: list[tuple[str, dict[str, object] | None]] = [
        ("{", None),  # does not parse
        ("{ nonsense }", None),  # does not validate
        ("query($n: Int!) { tenant { slug } }", {"n": "seven"}),  # a variable does not coerce
    ]
    for query, variables in request_errors:
        spec = await post(query, GRAPHQL_RESPONSE, variables)
        assert spec.status_code == 400, spec.text
        assert spec.headers["content-type"] == GRAPHQL_RESPONSE
        assert "data" not in spec.json()
        assert spec.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        legacy = await post(query, "application/json", variables)
        assert (legacy.status_code, legacy.headers["content-type"]) == (200, "application/json")
        assert legacy.json()["data"] is None
    # A field error is not a request error: data (with its null) stays, and so does 200.
    signed_out = await post("{ me { id } courses { totalCount } }", GRAPHQL_RESPONSE)
    assert signed_out.status_code == 200
    assert "data" in signed_out.json()
    # Refusals before the tenant is known speak the asked-for media type too.
    unknown = await client.post(
        "/graphql", json={"query": "{ tenant { slug } }"}, headers={"X-Tenant-ID": "nope", "Accept": GRAPHQL_RESPONSE}
    )
    assert (unknown.status_code, unknown.headers["content-type"]) == (404, GRAPHQL_RESPONSE)


def test_accept_header_negotiation() -> None:
    json_type = "application/json"
    cases = {
        None: json_type,
        "": json_type,
        "*/*": json_type,  # curl's default: the legacy type
        GRAPHQL_RESPONSE: GRAPHQL_RESPONSE,
        f"{GRAPHQL_RESPONSE}, application/json;q=0.9": GRAPHQL_RESPONSE,
        f"application/json, {GRAPHQL_RESPONSE}": GRAPHQL_RESPONSE,  # equal rank: the spec's type
        f"application/json, {GRAPHQL_RESPONSE};q=0.5": json_type,
        f"{GRAPHQL_RESPONSE};q=0": json_type,
        f"{GRAPHQL_RESPONSE};q=oops": json_type,
        "text/html": json_type,
        f"application/*;q=0.2, {GRAPHQL_RESPONSE};q=0.1": json_type,
        "APPLICATION/GRAPHQL-RESPONSE+JSON; charset=utf-8": GRAPHQL_RESPONSE,
    }
    for accept, expected in cases.items():
        assert negotiated_media_type(accept) == expected, accept


def test_a_server_failure_before_execution_is_no_request_error() -> None:
    """An INTERNAL error before execution (no data, no path) is the server's: 500, not 400."""
    failed = refusal(200, "Internal error. Quote request id x when reporting it.", ErrorCode.INTERNAL)
    assert response_of(failed, GRAPHQL_RESPONSE).status_code == 500
    invalid = refusal(200, "Cannot query field", ErrorCode.BAD_USER_INPUT)
    assert response_of(invalid, GRAPHQL_RESPONSE).status_code == 400
    assert response_of(failed).status_code == 200  # application/json: as it always was
