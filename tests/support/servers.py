"""Server processes over the test database (started, awaited ready, stopped) and websocket clients for them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from tests.support.http import TEST_JWT_KEYS

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"


class LiveServer:
    def __init__(self, base: str, process: subprocess.Popen[str]) -> None:
        self.base = base
        self.ws_url = base.replace("http://", "ws://") + "/graphql"
        self.process = process

    async def gql(self, query: str, variables: dict[str, Any] | None = None, **headers: str) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.base, timeout=10) as http:
            response = await http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
        body: dict[str, Any] = response.json()
        return body

    async def login(self, tenant: str, email: str, password: str) -> str:
        body = await self.gql(
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
            {"e": email, "p": password},
            **{"X-Tenant-ID": tenant},
        )
        return str(body["data"]["login"]["token"])


@contextlib.contextmanager
def live_server(env: dict[str, str], broadcast: str = "memory://", **extra_env: str) -> Iterator[LiveServer]:
    port = free_port()
    environment = {
        **os.environ,
        **env,
        "LMS_JWT_KEYS": TEST_JWT_KEYS,
        "LMS_BROADCAST_URL": broadcast,
        "LMS_OUTBOX_SWEEP_SECONDS": "2",
        **extra_env,
    }
    process = subprocess.Popen(
        [CONSOLE_SCRIPT, "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(process, base)
        yield LiveServer(base, process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        stop(process)


def transport(server: LiveServer, token: str | None, protocol: str, **headers: str) -> WebsocketsTransport:
    return WebsocketsTransport(
        url=server.ws_url,
        init_payload={"authorization": f"Bearer {token}"} if token else {},
        headers=headers or None,
        subprotocols=[protocol],
        ack_timeout=5,
        close_timeout=2,
    )


class Subscriber:
    """Runs a subscription in the background and collects what it receives."""

    def __init__(self, ws: WebsocketsTransport, document: str, variables: dict[str, Any] | None = None) -> None:
        self.ws = ws
        self.document = document
        self.variables = variables or {}
        self.received: list[dict[str, Any]] = []
        self.error: BaseException | None = None
        self.arrived = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def _run(self) -> None:
        try:
            async with Client(transport=self.ws) as session:
                self._ready.set()
                async for result in session.subscribe(GraphQLRequest(self.document, variable_values=self.variables)):
                    self.received.append(result)
                    self.arrived.set()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.error = exc
            self._ready.set()
            self.arrived.set()

    async def __aenter__(self) -> Subscriber:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self._ready.wait(), 10)
        await asyncio.sleep(0.3)  # the subscribe message reaches the server
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        async with asyncio.timeout(timeout):
            while len(self.received) < count and self.error is None:
                self.arrived.clear()
                await self.arrived.wait()
        return self.received

    async def quiet(self, seconds: float = 1.0) -> list[dict[str, Any]]:
        await asyncio.sleep(seconds)
        return self.received


@contextlib.asynccontextmanager
async def subscribed(
    server: LiveServer, token: str | None, document: str, variables: dict[str, Any] | None = None,
    protocol: str = TRANSPORT_WS, **headers: str,
) -> AsyncIterator[Subscriber]:  # fmt: skip
    async with Subscriber(transport(server, token, protocol, **headers), document, variables) as subscriber:
        yield subscriber


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_ready(process: subprocess.Popen[str], base: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{stop(process)}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail("server did not become ready")


def run_server(env: dict[str, str], *args: str, inherit_environment: bool = True) -> tuple[subprocess.Popen[str], str]:
    """``lms-graphql serve`` on a free port with ``env`` (over this process's environment, unless
    ``inherit_environment`` is False); returns the process and its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [CONSOLE_SCRIPT, "serve", "--port", str(port), *args],
        env={**os.environ, **env} if inherit_environment else env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return process, f"http://127.0.0.1:{port}"


def stop(process: subprocess.Popen[str]) -> str:
    """Stop the server; returns everything it printed."""
    process.terminate()
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output


CONSOLE_SCRIPT = Path(sys.executable).parent / "lms-graphql"


def readme_block(lead: str) -> str:
    """The first fenced code block after the README paragraph starting with ``lead``."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    after = readme[readme.index(lead) :]
    opening = after.index("```")
    body_start = after.index("\n", opening) + 1
    return after[body_start : after.index("```", body_start)]
