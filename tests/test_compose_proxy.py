"""compose.yaml's pieces, run without Docker: the database bootstrap of deploy/postgres/, `migrate`
and `serve` on secrets from files (as the replicas run), and Caddy with deploy/Caddyfile in front
(when a `caddy` binary is installed): tenant subdomains, websockets and client addresses."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import websockets
from sqlalchemy import URL
from websockets.typing import Subprotocol

from lms_graphql.kit.db import derive_app_password
from tests.support.database import libpq_url
from tests.support.people import unique_slug
from tests.support.servers import CONSOLE_SCRIPT, LEGACY_WS, TRANSPORT_WS, free_port, run_server, stop, wait_until_ready

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "proxy-password-1"
LOGINS_PER_ACCOUNT_AND_ADDRESS = 10  # lms_graphql/auth/graphql.py


@dataclass
class Deployment:
    env: dict[str, str]  # a replica's environment
    app: str  # a replica, reached directly
    proxy: str | None  # Caddy in front of it, when installed
    tenant: str


def bootstrap_database(server: URL, tmp: Path) -> tuple[URL, str]:
    """What the db service does on its first start: deploy/postgres/initdb/ as the superuser."""
    psql = shutil.which("psql")
    if psql is None:
        pytest.skip("the bootstrap script needs psql")
    suffix = secrets.token_hex(4)
    owner, database, app_role = f"owner_{suffix}", f"compose_{suffix}", f"app_{suffix}"
    password_file = tmp / "owner_password"
    password_file.write_text(secrets.token_hex(16), encoding="utf-8")
    env = {
        **os.environ,
        "PGHOST": str(server.host or server.query.get("host") or ""),
        "PGPORT": str(server.port or 5432),
        "PGPASSWORD": str(server.password or ""),
        "POSTGRES_USER": str(server.username),
        "POSTGRES_DB": str(server.database or "postgres"),
        "OWNER_PASSWORD_FILE": str(password_file),
        "OWNER_ROLE": owner,
        "OWNER_DATABASE": database,
    }
    script = ROOT / "deploy" / "postgres" / "initdb" / "10-owner-login.sh"
    subprocess.run(["bash", script], env=env, check=True, capture_output=True, timeout=60)
    owner_url = server.set(username=owner, password=password_file.read_text(encoding="utf-8"), database=database)
    return owner_url, app_role


def drop(server: URL, owner_url: URL, app_role: str) -> None:
    with psycopg.connect(libpq_url(server), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{owner_url.database}" WITH (FORCE)')
        conn.execute(f'DROP ROLE IF EXISTS "{app_role}"')
        conn.execute(f'DROP ROLE IF EXISTS "{owner_url.username}"')


def cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([CONSOLE_SCRIPT, *args], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def deployment(server_url: URL, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    tmp = tmp_path_factory.mktemp("compose")
    owner_url, app_role = bootstrap_database(server_url, tmp)
    processes: list[subprocess.Popen[str]] = []
    try:
        # The files deploy/make-secrets.sh writes, with the test server for "db".
        files = {
            "database_url": owner_url.render_as_string(hide_password=False),
            "app_database_url": owner_url.set(
                username=app_role, password=derive_app_password(owner_url, app_role)
            ).render_as_string(hide_password=False),
            "jwt_secret": secrets.token_hex(32),
            "metrics_token": METRICS_TOKEN,
        }
        for name, value in files.items():
            (tmp / name).write_text(value + "\n", encoding="utf-8")
        base = {key: value for key, value in os.environ.items() if not key.startswith("LMS_")}
        redis = os.environ.get("LMS_TEST_REDIS_URL", "memory://")
        migrate_env = base | {"LMS_DATABASE_URL_FILE": str(tmp / "database_url"), "LMS_APP_ROLE": app_role}
        cli(migrate_env, "migrate")  # the migrate service, as the owner: creates the app role
        replica_env = base | {  # as compose.yaml's app service: the app login only
            "LMS_APP_ROLE": app_role,
            "LMS_APP_DATABASE_URL_FILE": str(tmp / "app_database_url"),
            "LMS_JWT_SECRET_FILE": str(tmp / "jwt_secret"),
            "LMS_METRICS_TOKEN_FILE": str(tmp / "metrics_token"),
            "LMS_BROADCAST_URL": redis,
            "LMS_RATE_LIMIT_URL": "" if redis == "memory://" else redis,
            # The proxy connects from 127.0.0.1 here (compose trusts "*": only the proxy reaches a replica).
            "FORWARDED_ALLOW_IPS": "127.0.0.1",
        }
        tenant = unique_slug("mit")
        cli(migrate_env, "tenant", "create", tenant, "--name", "Compose University")
        cli(
            migrate_env,
            *("user", "create", "--tenant", tenant, "--email", "bob@compose.example", "--name", "Bob"),
            *("--role", "student", "--password", PASSWORD),
        )
        replica, app = run_server(replica_env, "--host", "127.0.0.1", inherit_environment=False)
        processes.append(replica)
        wait_until_ready(replica, app)
        proxy = start_caddy(tmp, int(app.rsplit(":", 1)[1]), processes)
        yield Deployment(replica_env, app, proxy, tenant)
    finally:
        outputs = [stop(process) for process in reversed(processes)]
        drop(server_url, owner_url, app_role)
    for output in outputs:
        assert "Traceback" not in output, output


def start_caddy(tmp: Path, app_port: int, processes: list[subprocess.Popen[str]]) -> str | None:
    """deploy/Caddyfile as compose runs it, its upstream a replica on this machine."""
    caddy = shutil.which("caddy")
    if caddy is None:
        return None
    port = free_port()
    env = {
        **os.environ,
        "PROXY_PORT": str(port),
        "UPSTREAM_HOST": "127.0.0.1",
        "UPSTREAM_PORT": str(app_port),
        "CADDY_ADMIN": "off",
        "XDG_CONFIG_HOME": str(tmp / "caddy-config"),
        "XDG_DATA_HOME": str(tmp / "caddy-data"),
    }
    process = subprocess.Popen(
        [caddy, "run", "--config", str(ROOT / "deploy" / "Caddyfile"), "--adapter", "caddyfile"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    processes.append(process)
    proxy = f"http://127.0.0.1:{port}"
    wait_until_ready(process, proxy)  # /readyz of the replica, answered through the proxy
    return proxy


def through_proxy(deployment: Deployment) -> str:
    if deployment.proxy is None:
        pytest.skip("no caddy binary here (Debian: apt-get install caddy)")
    return deployment.proxy


LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }"
METRICS_TOKEN = secrets.token_hex(16)


def test_metrics_come_from_each_replica_never_through_the_proxy(deployment: Deployment) -> None:
    proxy = through_proxy(deployment)
    authorised = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    assert httpx.get(f"{deployment.app}/metrics", headers=authorised, timeout=10).status_code == 200
    assert httpx.get(f"{proxy}/metrics", headers=authorised, timeout=10).status_code == 404


async def login(
    base: str,
    host: str,
    password: str,
    *,
    source: str = "127.0.0.1",
    email: str = "bob@compose.example",
    **headers: str,
) -> dict[str, Any]:
    """A sign-in sent from the loopback address ``source`` with ``host`` as its Host header."""
    transport = httpx.AsyncHTTPTransport(local_address=source)
    async with httpx.AsyncClient(transport=transport, base_url=base, timeout=10) as http:
        response = await http.post(
            "/graphql",
            json={"query": LOGIN, "variables": {"e": email, "p": password}},
            headers={"Host": host, **headers},
        )
    body: dict[str, Any] = response.json()
    return body


def error_code(body: dict[str, Any]) -> str | None:
    errors = body.get("errors") or [{}]
    return str(errors[0].get("extensions", {}).get("code")) if body.get("errors") else None


async def test_a_tenant_subdomain_reaches_a_replica_through_the_proxy(deployment: Deployment) -> None:
    proxy = through_proxy(deployment)
    body = await login(proxy, f"{deployment.tenant}.localhost:8000", PASSWORD)
    assert body["data"]["login"]["token"]
    unknown = await login(proxy, "no-such-university.localhost:8000", PASSWORD)
    assert error_code(unknown) == "TENANT_NOT_FOUND"


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_websockets_pass_through_the_proxy(deployment: Deployment, protocol: str) -> None:
    proxy = through_proxy(deployment)
    token = (await login(proxy, f"{deployment.tenant}.localhost", PASSWORD))["data"]["login"]["token"]
    port = int(proxy.rsplit(":", 1)[1])
    # The URL names the tenant's host (the Host header); the connection goes to the proxy.
    async with websockets.connect(
        f"ws://{deployment.tenant}.localhost:{port}/graphql",
        host="127.0.0.1",
        port=port,
        subprotocols=[Subprotocol(protocol)],
    ) as socket:
        assert socket.subprotocol == protocol
        await socket.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
        assert json.loads(await socket.recv())["type"] == "connection_ack"


async def test_the_proxy_gives_each_client_its_own_address(deployment: Deployment) -> None:
    """Caddy replaces a client's X-Forwarded-For with its real address; the replica counts that."""
    proxy = through_proxy(deployment)
    host, email = f"{deployment.tenant}.localhost:8000", "proxied@compose.example"
    for attempt in range(LOGINS_PER_ACCOUNT_AND_ADDRESS):
        # Each attempt claims another address: the proxy does not pass the claim on.
        claim = {"X-Forwarded-For": f"198.51.100.{attempt}"}
        assert error_code(await login(proxy, host, "wrong", source="127.0.0.2", email=email, **claim)) == (
            "UNAUTHENTICATED"
        )
    claim = {"X-Forwarded-For": "198.51.100.99"}
    assert error_code(await login(proxy, host, "wrong", source="127.0.0.2", email=email, **claim)) == "RATE_LIMITED"
    assert error_code(await login(proxy, host, "wrong", source="127.0.0.3", email=email)) == "UNAUTHENTICATED"


async def test_a_replica_takes_forwarded_addresses_from_its_trusted_proxy_only(deployment: Deployment) -> None:
    app, host, email = deployment.app, f"{deployment.tenant}.localhost", "direct@compose.example"

    async def attempt(source: str, forwarded: str) -> str | None:
        body = await login(app, host, "wrong", source=source, email=email, **{"X-Forwarded-For": forwarded})
        return error_code(body)

    # From the trusted address (the proxy's), X-Forwarded-For names the client.
    codes = [await attempt("127.0.0.1", "203.0.113.1") for _ in range(LOGINS_PER_ACCOUNT_AND_ADDRESS + 1)]
    assert codes == ["UNAUTHENTICATED"] * LOGINS_PER_ACCOUNT_AND_ADDRESS + ["RATE_LIMITED"]
    assert await attempt("127.0.0.1", "203.0.113.2") == "UNAUTHENTICATED"
    # From any other address the header is ignored: every claim counts against 127.0.0.4.
    codes = [await attempt("127.0.0.4", f"203.0.113.{100 + n}") for n in range(LOGINS_PER_ACCOUNT_AND_ADDRESS + 1)]
    assert codes == ["UNAUTHENTICATED"] * LOGINS_PER_ACCOUNT_AND_ADDRESS + ["RATE_LIMITED"]


def test_without_forwarded_allow_ips_the_header_is_ignored(deployment: Deployment) -> None:
    """The default (no proxy configured): not even a loopback peer chooses its address."""
    env = {key: value for key, value in deployment.env.items() if key != "FORWARDED_ALLOW_IPS"}
    process, base = run_server(env, inherit_environment=False)
    host = f"{deployment.tenant}.localhost"
    try:
        wait_until_ready(process, base)
        codes = [
            error_code(_sync_login(base, host, forwarded=f"192.0.2.{attempt}"))
            for attempt in range(LOGINS_PER_ACCOUNT_AND_ADDRESS + 1)
        ]
    finally:
        stop(process)
    assert codes == ["UNAUTHENTICATED"] * LOGINS_PER_ACCOUNT_AND_ADDRESS + ["RATE_LIMITED"]


def _sync_login(base: str, host: str, *, forwarded: str) -> dict[str, Any]:
    with httpx.Client(base_url=base, timeout=10) as http:  # from 127.0.0.1
        response = http.post(
            "/graphql",
            json={"query": LOGIN, "variables": {"e": "unproxied@compose.example", "p": "wrong"}},
            headers={"Host": host, "X-Forwarded-For": forwarded},
        )
    body: dict[str, Any] = response.json()
    return body
