"""The reference JavaScript client (graphql-ws from npm) against a real server process."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from lms_graphql.kit.db import Database
from tests.support.node import node_with_packages, until_delivered
from tests.support.people import PASSWORD, PersonFactory, TenantFactory
from tests.support.scenes import PROGRESS, PROGRESS_FEED, scene
from tests.support.servers import live_server

pytestmark = pytest.mark.slow

CLIENT_DIR = Path(__file__).resolve().parent / "js"


@pytest.fixture(scope="session")
def node_client() -> Path:
    return node_with_packages(CLIENT_DIR, "the JavaScript graphql-ws client and the graphql-http audit cannot run")


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

        async def rise(attempt: int) -> None:  # each rise is an event
            variables = {"l": str(world.lessons[0]), "p": 70 + attempt}
            body = await server.gql(PROGRESS, variables, Authorization=f"Bearer {student}")
            assert "errors" not in body

        output, _ = await until_delivered(process.communicate(), rise)
        lines = [json.loads(line) for line in output.decode().splitlines() if line.strip()]
        assert process.returncode == 0, lines
        update = lines[-1]["data"]["courseProgressUpdates"]
        assert update["lessonId"] == str(world.lessons[0])
        assert 70 <= update["progressPct"] < 90


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
