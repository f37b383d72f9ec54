"""A websocket is a stream of requests: each authorised against the user row and tenant as they
are now, and run like an HTTP request. Revocations close the affected sockets at once.
Black box: a real server process, real sockets."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import psycopg
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from lms_graphql.kit.db import Database
from tests.support.people import PASSWORD, PersonFactory, TenantFactory, unique_slug
from tests.support.servers import CONSOLE_SCRIPT, LEGACY_WS, TRANSPORT_WS, LiveServer, live_server

pytestmark = pytest.mark.slow

CREATE_USER = (
    'mutation { createUser(input: {email: "%s", fullName: "Backdoor", role: ADMIN, password: "long enough pw"}) '
    "{ id } }"
)
CREATE_COURSE = 'mutation { createCourse(input: {title: "%s"}) { id } }'


class Socket:
    """One GraphQL websocket, either protocol, spoken by hand."""

    def __init__(self, connection: ClientConnection, protocol: str) -> None:
        self.connection, self.protocol = connection, protocol
        self._ids = 0

    async def send(self, query: str, variables: dict[str, Any] | None = None) -> str:
        self._ids += 1
        kind = "subscribe" if self.protocol == TRANSPORT_WS else "start"
        payload = {"query": query, "variables": variables or {}}
        await self.connection.send(json.dumps({"id": str(self._ids), "type": kind, "payload": payload}))
        return str(self._ids)

    async def ask(self, query: str, variables: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The messages of one query or mutation, up to its completion."""
        operation = await self.send(query, variables)
        messages = []
        while True:
            message = json.loads(await asyncio.wait_for(self.connection.recv(), 5))
            if message.get("id") == operation:
                messages.append(message)
                if message["type"] in ("complete", "error"):
                    return messages

    async def closed(self, within: float) -> tuple[int | None, list[dict[str, Any]], float]:
        """Wait for the server to close the socket: (close code, messages before it, seconds)."""
        started, messages = time.monotonic(), []
        try:
            async with asyncio.timeout(within):
                async for raw in self.connection:
                    messages.append(json.loads(raw))
        except TimeoutError:
            return None, messages, time.monotonic() - started
        except websockets.ConnectionClosed:
            pass
        code = self.connection.close_code
        return code, messages, time.monotonic() - started


@asynccontextmanager
async def socket(server: LiveServer, token: str, protocol: str) -> AsyncIterator[Socket]:
    async with websockets.connect(server.ws_url, subprotocols=[protocol]) as connection:  # type: ignore[list-item]
        await connection.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
        assert json.loads(await asyncio.wait_for(connection.recv(), 5))["type"] == "connection_ack"
        yield Socket(connection, protocol)


async def post(server: LiveServer, token: str, query: str, variables: dict[str, Any] | None = None) -> Any:
    body = await server.gql(query, variables, Authorization=f"Bearer {token}")
    assert "errors" not in body, body
    return body["data"]


def count(owner_conn: psycopg.Connection, sql: str, *params: Any) -> int:
    row = owner_conn.execute(sql, params).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_demoted_admin_socket_closes_at_once_and_runs_nothing_more(
    env_for_cli: dict[str, str],
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    owner_conn: psycopg.Connection,
    protocol: str,
) -> None:
    tenant = await make_tenant()
    victim, boss = await make_user(tenant, "admin"), await make_user(tenant, "admin")
    with live_server(env_for_cli) as server:
        token = await server.login(tenant.slug, victim.email, PASSWORD)
        boss_token = await server.login(tenant.slug, boss.email, PASSWORD)
        async with socket(server, token, protocol) as ws:
            (answer, *_) = await ws.ask("{ me { role } }")
            assert answer["payload"]["data"] == {"me": {"role": "ADMIN"}}
            await post(
                server,
                boss_token,
                "mutation($id: ID!) { updateUser(id: $id, input: {role: STUDENT, isActive: false}) { id } }",
                {"id": str(victim.id)},
            )
            code, messages, seconds = await ws.closed(within=3)
            assert code == 4403, (code, messages)
            assert seconds < 1.0
            if protocol == LEGACY_WS:
                assert messages[-1]["type"] == "connection_error"
        print(f"revoked socket closed after {seconds * 1000:.0f} ms")
    assert count(owner_conn, "SELECT count(*) FROM users WHERE tenant_id = %s", tenant.id) == 2


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_every_operation_is_authorised_even_if_no_revocation_arrived(
    env_for_cli: dict[str, str],
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    owner_conn: psycopg.Connection,
    protocol: str,
) -> None:
    tenant = await make_tenant()
    admin = await make_user(tenant, "admin")
    with live_server(env_for_cli) as server:
        token = await server.login(tenant.slug, admin.email, PASSWORD)
        async with socket(server, token, protocol) as ws:
            # Behind the server's back: no bus message, only the row changes.
            owner_conn.execute("UPDATE users SET token_version = token_version + 1 WHERE id = %s", (admin.id,))
            await ws.send(CREATE_USER % f"new-{uuid.uuid4().hex[:6]}@uni.example")
            code, messages, _ = await ws.closed(within=3)
            assert code == 4403, (code, messages)
            assert not [m for m in messages if m.get("type") in ("next", "data")]
    assert count(owner_conn, "SELECT count(*) FROM users WHERE tenant_id = %s", tenant.id) == 1


async def test_deactivating_a_tenant_closes_its_sockets(
    env_for_cli: dict[str, str],
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    owner_conn: psycopg.Connection,
) -> None:
    home, target = await make_tenant(), await make_tenant()
    operator, teacher = await make_user(home, "super_admin"), await make_user(target, "instructor")
    with live_server(env_for_cli) as server:
        operator_token = await server.login(home.slug, operator.email, PASSWORD)
        token = await server.login(target.slug, teacher.email, PASSWORD)
        async with socket(server, token, TRANSPORT_WS) as ws:
            await post(
                server,
                operator_token,
                "mutation($id: ID!) { deactivateTenant(id: $id) { id } }",
                {"id": str(target.id)},
            )
            code, _, seconds = await ws.closed(within=3)
            assert (code, seconds < 1.0) == (4403, True)
    assert count(owner_conn, "SELECT count(*) FROM courses WHERE tenant_id = %s", target.id) == 0


async def test_socket_operations_run_like_http_ones(
    env_for_cli: dict[str, str],
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    owner_conn: psycopg.Connection,
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    with live_server(env_for_cli) as server:
        token = await server.login(tenant.slug, teacher.email, PASSWORD)
        async with socket(server, token, TRANSPORT_WS) as ws:
            created, complete = await ws.ask(CREATE_COURSE % "Over a socket")
            assert "errors" not in created["payload"]
            assert complete["type"] == "complete"
            refused = await ws.ask(CREATE_COURSE % "a\\u0000b")
            assert refused[0]["type"] == "error"
            assert refused[0]["payload"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        async with socket(server, token, LEGACY_WS) as legacy:
            # The legacy protocol's start carries queries and mutations too.
            data, done = await legacy.ask("{ me { role } }")
            assert (data["type"], data["payload"]["data"], done["type"]) == (
                "data",
                {"me": {"role": "INSTRUCTOR"}},
                "complete",
            )
    audited = owner_conn.execute(
        "SELECT details->>'outcome' FROM audit_log WHERE tenant_id = %s AND action = 'createCourse'", (tenant.id,)
    ).fetchall()
    assert audited == [("OK",)]
    assert count(owner_conn, "SELECT count(*) FROM courses WHERE tenant_id = %s", tenant.id) == 1


async def test_one_bad_request_never_breaks_a_keep_alive_connection(
    env_for_cli: dict[str, str], make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    tenant = await make_tenant()
    admin = await make_user(tenant, "admin")
    with live_server(env_for_cli) as server:
        token = await server.login(tenant.slug, admin.email, PASSWORD)
        headers = {"Authorization": f"Bearer {token}"}
        bad = [
            {"query": "mutation($t: String!) { createCourse(input: {title: $t}) { id } }", "variables": {"t": "\x00"}},
            "a bare string",
            {"query": "{ me { id } }", "variables": {"v": json.loads("[" * 400 + "]" * 400)}},
        ]
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=server.base, limits=limits, timeout=10) as http:
            for round_ in range(10):
                for body in bad:
                    response = await http.post("/graphql", json=body, headers=headers)
                    assert response.status_code == 400, response.text
                good = await http.post("/graphql", json={"query": "{ me { role } }"}, headers=headers)
                assert good.json() == {"data": {"me": {"role": "ADMIN"}}}, round_


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_malformed_frames_are_refused_cleanly(
    env_for_cli: dict[str, str], make_tenant: TenantFactory, make_user: PersonFactory, protocol: str
) -> None:
    tenant = await make_tenant()
    user = await make_user(tenant)
    start = "subscribe" if protocol == TRANSPORT_WS else "start"
    frames: list[Any] = [
        ["x"],
        "x",
        {"type": start, "id": "1", "payload": "x"},
        {"type": start, "id": "1", "payload": {}},
        {"type": start, "id": 1, "payload": {"query": "{ me { id } }"}},
        {"type": start, "payload": {"query": "{ me { id } }"}},
        {"type": start, "id": "1", "payload": {"query": "{ me { id } }", "variables": "x"}},
    ]
    with live_server(env_for_cli) as server:
        token = await server.login(tenant.slug, user.email, PASSWORD)
        for frame in frames:
            async with socket(server, token, protocol) as ws:
                await ws.connection.send(json.dumps(frame))
                code, messages, _ = await ws.closed(within=1.5)
                if protocol == TRANSPORT_WS:
                    assert code == 4400, (frame, code, messages)
                else:  # an error for the operation, or the socket closed: never a crash
                    assert code == 4400 or [m["type"] for m in messages] == ["error"], (frame, code, messages)
        if protocol == LEGACY_WS:
            async with socket(server, token, protocol) as ws:
                init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
                await ws.connection.send(json.dumps(init))
                code, _, _ = await ws.closed(within=2)
                assert code == 4429
        server.process.terminate()
        output = server.process.communicate(timeout=15)[0]
    assert "Traceback" not in output, output[-3000:]


async def test_the_per_user_socket_limit_is_not_leaked(
    env_for_cli: dict[str, str], make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    tenant = await make_tenant()
    user = await make_user(tenant)
    with live_server(env_for_cli, LMS_WS_MAX_CONNECTIONS_PER_USER="2") as server:
        token = await server.login(tenant.slug, user.email, PASSWORD)
        for _ in range(4):  # sockets closed in every way give their place back
            async with socket(server, token, LEGACY_WS) as first, socket(server, token, TRANSPORT_WS):
                again = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
                await first.connection.send(json.dumps(again))
                assert (await first.closed(within=2))[0] == 4429
        async with socket(server, token, TRANSPORT_WS) as ws:
            (answer, _) = await ws.ask("{ me { role } }")
            assert answer["payload"]["data"] == {"me": {"role": "STUDENT"}}


@pytest.mark.parametrize("bus", ["postgres", "redis"])
async def test_a_revocation_closes_sockets_in_every_process(
    env_for_cli: dict[str, str], make_tenant: TenantFactory, make_user: PersonFactory, bus: str
) -> None:
    url = "postgres" if bus == "postgres" else os.environ.get("LMS_TEST_REDIS_URL")
    if url is None:
        pytest.skip("LMS_TEST_REDIS_URL is not set: no Redis to share between processes")
    tenant = await make_tenant()
    victim, boss = await make_user(tenant, "admin"), await make_user(tenant, "admin")
    with live_server(env_for_cli, url) as socket_side, live_server(env_for_cli, url) as admin_side:
        token = await socket_side.login(tenant.slug, victim.email, PASSWORD)
        boss_token = await admin_side.login(tenant.slug, boss.email, PASSWORD)
        async with socket(socket_side, token, TRANSPORT_WS) as ws:
            await post(
                admin_side,
                boss_token,
                "mutation($id: ID!) { updateUser(id: $id, input: {isActive: false}) { id } }",
                {"id": str(victim.id)},
            )
            code, _, seconds = await ws.closed(within=3)
            assert code == 4403
            assert seconds < 1.0


async def test_tenant_changes_made_with_the_cli_reach_running_servers_at_once(
    env_for_cli: dict[str, str], make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    with live_server(env_for_cli) as server:
        token = await server.login(tenant.slug, teacher.email, PASSWORD)
        assert "data" in await server.gql("{ tenant { slug } }", None, **{"X-Tenant-ID": tenant.slug})  # now cached
        async with socket(server, token, TRANSPORT_WS) as ws:
            done = await asyncio.to_thread(
                subprocess.run,
                [str(CONSOLE_SCRIPT), "tenant", "deactivate", tenant.slug],
                env={**os.environ, **env_for_cli},
            )
            assert done.returncode == 0
            code, _, seconds = await ws.closed(within=3)
            assert (code, seconds < 1.0) == (4403, True)
        refused = await server.gql("{ tenant { slug } }", None, **{"X-Tenant-ID": tenant.slug})
        assert refused["errors"][0]["extensions"]["code"] == "TENANT_NOT_FOUND"
        created = unique_slug()
        assert (await server.gql("{ tenant { slug } }", None, **{"X-Tenant-ID": created}))[
            "errors"
        ]  # remembered missing
        made = await asyncio.to_thread(
            subprocess.run,
            [str(CONSOLE_SCRIPT), "tenant", "create", created, "--name", "New"],
            env={**os.environ, **env_for_cli},
        )
        assert made.returncode == 0
        for _ in range(50):  # the NOTIFY arrives within milliseconds
            if "data" in await server.gql("{ tenant { slug } }", None, **{"X-Tenant-ID": created}):
                break
            await asyncio.sleep(0.02)
        assert (await server.gql("{ tenant { slug } }", None, **{"X-Tenant-ID": created})) == {
            "data": {"tenant": {"slug": created}}
        }
