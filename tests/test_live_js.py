"""The reference JavaScript client (graphql-ws from npm) against a real server process."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from lms_graphql.kit.db import Database
from tests.support.people import PASSWORD, PersonFactory, TenantFactory
from tests.support.scenes import PROGRESS, PROGRESS_FEED, scene
from tests.support.servers import live_server

pytestmark = pytest.mark.slow

CLIENT_DIR = Path(__file__).resolve().parent / "js"


@pytest.fixture(scope="session")
def node_client() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are not installed: the JavaScript graphql-ws client cannot run")
    if not (CLIENT_DIR / "node_modules" / "graphql-ws").exists():
        subprocess.run([npm, "ci", "--silent", "--no-audit", "--no-fund"], cwd=CLIENT_DIR, check=True, timeout=300)
    return Path(node)


async def test_reference_graphql_ws_client_receives_progress(
    node_client: Path, env_for_cli: dict[str, str], make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    world = await scene(make_tenant, make_user, db)
    with live_server(env_for_cli) as server:
        teacher = await server.login(world.slug, world.teacher.email, PASSWORD)
        student = await server.login(world.slug, world.student.email, PASSWORD)
        process = await asyncio.create_subprocess_exec(
            str(node_client),
            str(CLIENT_DIR / "subscribe.mjs"),
            server.ws_url,
            teacher,
            PROGRESS_FEED,
            json.dumps({"c": str(world.course_id)}),
            "1",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        assert process.stdout is not None
        assert json.loads(await asyncio.wait_for(process.stdout.readline(), 10)) == {"ready": True}
        await asyncio.sleep(1.0)  # connection_init, ack and subscribe
        body = await server.gql(PROGRESS, {"l": str(world.lessons[0]), "p": 70}, Authorization=f"Bearer {student}")
        assert "errors" not in body
        output, _ = await asyncio.wait_for(process.communicate(), 20)
        lines = [json.loads(line) for line in output.decode().splitlines() if line.strip()]
        assert process.returncode == 0, lines
        update = lines[-1]["data"]["courseProgressUpdates"]
        assert (update["lessonId"], update["progressPct"]) == (str(world.lessons[0]), 70)


async def test_graphql_http_audit_passes(
    node_client: Path, env_for_cli: dict[str, str], make_tenant: TenantFactory
) -> None:
    """graphql-http's auditServer (the GraphQL-over-HTTP reference): every MUST and SHOULD."""
    tenant = await make_tenant()
    with live_server(env_for_cli) as server:
        process = await asyncio.create_subprocess_exec(
            str(node_client),
            str(CLIENT_DIR / "audit.mjs"),
            f"{server.base}/graphql",
            tenant.slug,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        output, errors = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, errors.decode()
    results = json.loads(output)
    assert len(results) >= 50
    failed = [f"{r['status']} {r['id']} {r['name']}: {r['reason']}" for r in results if r["status"] != "ok"]
    assert failed == []
