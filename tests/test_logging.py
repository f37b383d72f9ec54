"""What `serve` logs: JSON lines on stdout (uvicorn's own included), an access line per request
with its facts and no secrets, human lines on request, and a client that goes away mid-request
as one info line."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import logging.config
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lms_graphql.config import ConfigError, Settings
from lms_graphql.observability.logs import HumanFormatter, logging_config
from lms_graphql.operations.access import loggable_name
from tests.support.http import TEST_JWT_KEYS
from tests.support.people import PASSWORD, PersonFactory, TenantFactory
from tests.support.servers import CONSOLE_SCRIPT, free_port, wait_until_ready

ACCESS_FIELDS = {"requestId", "tenant", "user", "operation", "cost", "status", "durationMs"}


class Served:
    def __init__(self, base: str) -> None:
        self.base = base
        self.stdout = ""
        self.stderr = ""

    def post(self, body: dict[str, Any], **headers: str) -> httpx.Response:
        return httpx.post(f"{self.base}/graphql", json=body, headers=headers, timeout=10)

    def lines(self) -> list[str]:
        return [line for line in self.stdout.splitlines() if line.strip()]

    def records(self) -> list[dict[str, Any]]:
        """Every stdout line as the JSON object it must be."""
        records = []
        for line in self.lines():
            record = json.loads(line)
            assert isinstance(record, dict), line
            records.append(record)
        return records


@contextlib.contextmanager
def serving(env: dict[str, str], *args: str) -> Iterator[Served]:
    """`lms-graphql serve` with stdout and stderr apart; both are read once it stopped."""
    port = free_port()
    environment = {**os.environ, **env, "LMS_JWT_KEYS": TEST_JWT_KEYS, "LMS_BROADCAST_URL": "memory://"}
    process = subprocess.Popen(
        [CONSOLE_SCRIPT, "serve", "--port", str(port), *args],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    served = Served(f"http://127.0.0.1:{port}")
    try:
        wait_until_ready(process, served.base)
        yield served
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            served.stdout, served.stderr = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            served.stdout, served.stderr = process.communicate()


@pytest.fixture
async def world(make_tenant: TenantFactory, make_user: PersonFactory) -> tuple[str, str]:
    """A tenant with a student: (slug, email)."""
    tenant = await make_tenant()
    student = await make_user(tenant)
    return tenant.slug, student.email


def test_an_exception_is_one_json_line_with_its_traceback() -> None:
    stream = io.StringIO()
    formatter = logging.config.DictConfigurator(logging_config("json", "info")).configure_formatter(
        logging_config("json", "info")["formatters"]["default"]
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger("tests.logging.exception")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            1 / 0  # noqa: B018
        except ZeroDivisionError:
            logger.exception("request %s failed", "r-1", extra={"requestId": "r-1"})
    finally:
        logger.removeHandler(handler)
    (line,) = stream.getvalue().splitlines()
    record = json.loads(line)
    assert (record["level"], record["logger"], record["message"], record["requestId"]) == (
        "ERROR",
        "tests.logging.exception",
        "request r-1 failed",
        "r-1",
    )
    assert record["traceback"].startswith("Traceback (most recent call last)")
    assert "ZeroDivisionError: division by zero" in record["traceback"]
    assert "time" in record


def test_log_settings() -> None:
    assert (Settings.from_env({}).log_format, Settings.from_env({}).log_level) == ("json", "info")
    configured = Settings.from_env({"LMS_LOG_FORMAT": "Human", "LMS_LOG_LEVEL": "WARNING"})
    assert (configured.log_format, configured.log_level) == ("human", "warning")
    with pytest.raises(ConfigError, match="LMS_LOG_FORMAT must be one of json, human"):
        Settings.from_env({"LMS_LOG_FORMAT": "xml"})
    with pytest.raises(ConfigError, match="LMS_LOG_LEVEL"):
        Settings.from_env({"LMS_LOG_LEVEL": "loud"})


@pytest.mark.slow
def test_each_request_is_one_json_access_line_without_secrets(
    env_for_cli: dict[str, str], world: tuple[str, str]
) -> None:
    slug, email = world
    with serving(env_for_cli) as server:
        login = server.post(
            {
                "query": "mutation SignIn($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
                "variables": {"e": email, "p": PASSWORD},
            },
            **{"X-Tenant-ID": slug, "X-Request-ID": "log-test-login-1"},
        )
        token = login.json()["data"]["login"]["token"]
        me = server.post(
            {"query": "query Me { me { id } }"}, Authorization=f"Bearer {token}", **{"X-Request-ID": "log-test-me-1"}
        )
        user_id = me.json()["data"]["me"]["id"]
        refused = server.post(
            {"query": "{ me { id } }"}, Authorization="Bearer forged", **{"X-Request-ID": "log-bad-1"}
        )
        assert refused.status_code == 401
    assert server.stdout.strip(), server.stderr
    records = server.records()  # every line is a JSON object: uvicorn's own too
    assert {"uvicorn.error", "lms_graphql.access"} <= {record["logger"] for record in records}
    access = {record["requestId"]: record for record in records if record["logger"] == "lms_graphql.access"}
    assert set(access) == {"log-test-login-1", "log-test-me-1", "log-bad-1"}  # one line each, probes not logged
    for record in access.values():
        assert set(record) >= ACCESS_FIELDS
        assert record["level"] == "INFO"
        assert isinstance(record["durationMs"], float | int)
    assert access["log-test-login-1"]["operation"] == "SignIn"
    assert access["log-test-login-1"]["tenant"] == slug
    assert (access["log-test-me-1"]["user"], access["log-test-me-1"]["operation"]) == (user_id, "Me")
    assert (access["log-test-me-1"]["status"], access["log-test-me-1"]["tenant"]) == (200, slug)
    assert isinstance(access["log-test-me-1"]["cost"], int)
    assert (access["log-bad-1"]["status"], access["log-bad-1"]["codes"]) == (401, ["INVALID_TOKEN"])
    everything = server.stdout + server.stderr
    for secret in (PASSWORD, token, "forged", TEST_JWT_KEYS.split("=", 1)[1]):
        assert secret not in everything


@pytest.mark.slow
def test_human_lines_on_request(env_for_cli: dict[str, str], world: tuple[str, str]) -> None:
    slug, _ = world
    with serving(env_for_cli, "--log-format", "human") as server:
        server.post(
            {"query": "query Slug { tenant { slug } }"}, **{"X-Tenant-ID": slug, "X-Request-ID": "human-line-1"}
        )
    lines = server.lines()
    assert lines
    assert not any(line.startswith("{") for line in lines)
    (access,) = [line for line in lines if "human-line-1" in line]
    assert " INFO " in access
    assert "lms_graphql.access: POST /graphql 200" in access
    for field in ("requestId=human-line-1", f"tenant={slug}", "operation=Slug", "status=200", "cost=", "durationMs="):
        assert field in access
    assert any("uvicorn.error: Application startup complete." in line for line in lines)


@pytest.mark.slow
def test_a_client_that_goes_away_mid_request_is_one_info_line(
    env_for_cli: dict[str, str], world: tuple[str, str]
) -> None:
    slug, _ = world
    with serving(env_for_cli) as server:
        port = int(server.base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)) as client:
            client.sendall(
                b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + f"X-Tenant-ID: {slug}\r\n".encode()
                + b"X-Request-ID: gone-away-1\r\nContent-Length: 100\r\n\r\n"
                b'{"query": "{ tenant'
            )
            time.sleep(0.5)  # the server is reading the body
        # The server still answers after the disconnect.
        assert httpx.get(f"{server.base}/healthz").status_code == 200
    records = server.records()
    (line,) = [record for record in records if "gone-away-1" in json.dumps(record)]
    assert (line["level"], line["status"], line["logger"]) == ("INFO", 499, "lms_graphql.access")
    assert "went away" in line["message"]
    assert not [record for record in records if record["level"] in ("ERROR", "CRITICAL")]
    assert "Traceback" not in server.stdout + server.stderr
    assert "ClientDisconnect" not in server.stdout + server.stderr


def test_a_client_cannot_forge_a_log_line() -> None:
    """Operation names are the client's: only GraphQL names reach the logs, and the human
    format escapes control characters (JSON escapes them anyway)."""
    assert loggable_name("Dashboard") == "Dashboard"
    assert loggable_name("X\n2026-11-28 ERROR lms_graphql: forged") == "(invalid)"
    assert loggable_name(None) is None
    record = logging.LogRecord("lms_graphql.access", logging.INFO, __file__, 1, "POST /graphql\nforged", None, None)
    record.operation = "a\r\nb"
    line = HumanFormatter().format(record)
    assert "\n" not in line
    assert "\r" not in line
    assert "POST /graphql\\nforged" in line
