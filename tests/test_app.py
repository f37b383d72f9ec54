"""The HTTP surface through the real ASGI app, and the real server end to end."""

from __future__ import annotations

import dataclasses
import json
import stat
import subprocess
from pathlib import Path

import httpx
import pytest
from sqlalchemy import make_url
from starlette.applications import Starlette

from lms_graphql.app import UnsafeDatabaseRoleError, create_app
from lms_graphql.config import DEFAULT_APP_ROLE, ConfigError, Settings
from lms_graphql.kit.db import Database
from lms_graphql.migrate import head_revision
from tests.support.database import OwnedDatabaseUrls
from tests.support.people import TenantFactory
from tests.support.servers import readme_block, run_server, stop, wait_until_ready


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}


async def test_readiness_fails_when_the_database_is_unreachable(app: Starlette, client: httpx.AsyncClient) -> None:
    working = app.state.services
    broken = Database(make_url("postgresql+psycopg://nobody@127.0.0.1:9/none"))
    app.state.services = dataclasses.replace(working, db=broken)
    try:
        response = await client.get("/readyz")
    finally:
        await broken.dispose()
        app.state.services = working
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


async def test_graphql_answers(client: httpx.AsyncClient, make_tenant: TenantFactory) -> None:
    tenant = await make_tenant()
    response = await client.post(
        "/graphql", json={"query": "{ __typename serverVersion }"}, headers={"X-Tenant-ID": tenant.slug}
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query", "serverVersion": "0.1.0"}}


async def test_the_app_refuses_a_role_that_bypasses_rls(database_urls: OwnedDatabaseUrls, settings: Settings) -> None:
    owner_db = Database(database_urls.owner, pool_size=1)
    try:
        role = await owner_db.role_attributes()
        if not (role["rolsuper"] or role["rolbypassrls"]):
            pytest.skip("the test database's owner is neither superuser nor BYPASSRLS")
        application = create_app(settings, db=owner_db)
        with pytest.raises(UnsafeDatabaseRoleError):
            async with application.router.lifespan_context(application):
                pass
    finally:
        await owner_db.dispose()


def test_jwt_secret_is_generated_once_with_owner_only_permissions(tmp_path: Path) -> None:
    settings = Settings.from_env({"LMS_DATA_DIR": str(tmp_path)})
    secret = settings.jwt_secret
    path = tmp_path / "jwt-secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(secret) >= 32
    assert Settings.from_env({"LMS_DATA_DIR": str(tmp_path)}).jwt_secret == secret
    assert Settings.from_env({"LMS_DATA_DIR": str(tmp_path), "LMS_JWT_SECRET": "given"}).jwt_secret == "given"


def test_jwt_key_configuration(tmp_path: Path) -> None:
    keys_file = tmp_path / "keys"
    keys_file.write_text("# newest first\nnew=" + "n" * 40 + "\nold=" + "o" * 40 + "\n")
    from_file = Settings.from_env({"LMS_DATA_DIR": str(tmp_path), "LMS_JWT_KEYS_FILE": str(keys_file)})
    assert [kid for kid, _ in from_file.jwt_keys] == ["new", "old"]
    from_env = Settings.from_env({"LMS_JWT_KEYS": "a=" + "a" * 32 + ", b=" + "b" * 32})
    assert [kid for kid, _ in from_env.jwt_keys] == ["a", "b"]
    for bad, message in (
        ({"LMS_JWT_SECRET": "short"}, "at least 32 characters"),
        ({"LMS_JWT_KEYS": "a=" + "a" * 32 + ",a=" + "b" * 32}, "appears twice"),
        ({"LMS_JWT_KEYS": "just-a-secret-without-a-key-id-0123456789"}, "expected kid=secret"),
        ({"LMS_JWT_KEYS_FILE": str(tmp_path / "missing")}, "cannot read LMS_JWT_KEYS_FILE"),
    ):
        with pytest.raises(ConfigError, match=message):
            _ = Settings.from_env({"LMS_DATA_DIR": str(tmp_path), **bad}).jwt_keys


@pytest.mark.slow
def test_serve_with_two_workers_on_the_configured_database(env_for_cli: dict[str, str]) -> None:
    process, base = run_server(env_for_cli, "--workers", "2")
    try:
        wait_until_ready(process, base)
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
        reply = httpx.post(f"{base}/graphql", json={"query": "{ __typename }"})
        assert reply.status_code == 400
        assert reply.json()["errors"][0]["extensions"]["code"] == "TENANT_NOT_RESOLVED"
    finally:
        stop(process)


@pytest.mark.slow
def test_first_start_on_the_embedded_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a new user runs: no database configured, empty data dir, demo data on first start."""
    for key in ("LMS_DATABASE_URL", "LMS_APP_DATABASE_URL", "LMS_JWT_SECRET"):
        monkeypatch.delenv(key, raising=False)
    data_dir = tmp_path / "data"
    process, base = run_server({"LMS_DATA_DIR": str(data_dir)}, "--demo")
    try:
        wait_until_ready(process, base)
        assert httpx.get(f"{base}/healthz").status_code == 200
        # The README's "Try it", pasted as it is (but for the port): it logs in and asks who we are.
        port = base.rsplit(":", 1)[1]
        snippet = readme_block("Try it against the demo data").replace(":8000/", f":{port}/")
        tried = subprocess.run(["bash", "-ec", snippet], capture_output=True, text=True, timeout=60, check=False)
        assert tried.returncode == 0, tried.stderr
        assert json.loads(tried.stdout)["data"]["me"]["role"] == "STUDENT", tried.stdout
    finally:
        output = stop(process)
    assert f"migrated empty -> {head_revision(DEFAULT_APP_ROLE)}" in output
    assert "Demo data loaded." in output
    assert (data_dir / "pgdata" / "PG_VERSION").exists()
    # Stopping the server stops the embedded PostgreSQL it started.
    assert not (data_dir / "pgdata" / "postmaster.pid").exists()
