"""Talking GraphQL to the app in process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.people import PASSWORD, Person

TEST_JWT_KEYS = "test-key=" + "k" * 48


@dataclass
class Reply:
    status: int
    body: dict[str, Any]

    @property
    def data(self) -> Any:
        assert "errors" not in self.body, self.body
        return self.body["data"]

    @property
    def codes(self) -> list[str]:
        return [error["extensions"]["code"] for error in self.body.get("errors", [])]


async def gql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    tenant: str | None = None,
    token: str | None = None,
    host: str | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    sent = dict(headers or {})
    if tenant is not None:
        sent["X-Tenant-ID"] = tenant
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    if host is not None:
        sent["Host"] = host
    payload = {"query": query, "variables": variables or {}}
    response = await client.post("/graphql", json=payload, headers=sent)
    return Reply(response.status_code, response.json())


LOGIN = """
mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token expiresAt user { id role } } }
"""


async def login(client: httpx.AsyncClient, person: Person, password: str = PASSWORD) -> str:
    reply = await gql(client, LOGIN, {"e": person.email, "p": password}, tenant=person.tenant.slug)
    return str(reply.data["login"]["token"])


@asynccontextmanager
async def app_client(db: Any, env: dict[str, str], **settings: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app of its own (with its lifespan) under ``env`` and ``settings``,
    for tests about a setting the shared app does not have."""
    from lms_graphql.app import create_app
    from lms_graphql.config import Settings

    environment = {**env, "LMS_JWT_KEYS": TEST_JWT_KEYS, "LMS_WORKER": "off", **settings}
    application = create_app(Settings.from_env(environment), db=db)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
