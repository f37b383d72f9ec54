"""GraphiQL in a real browser (headless Chromium, driven by playwright-core from npm) against a
real server process: pick a tenant, log in through the headers pane, run the student dashboard,
receive a subscription event, and load nothing from outside the server."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest

from lms_graphql.kit.db import Database
from tests.support.node import node_with_packages, until_delivered
from tests.support.people import PASSWORD, PersonFactory, TenantFactory
from tests.support.scenes import progress, scene
from tests.support.servers import live_server
from tests.test_dashboard import DASHBOARD

pytestmark = pytest.mark.slow

CLIENT_DIR = Path(__file__).resolve().parent / "js"
CHROMIUM = os.environ.get("LMS_TEST_CHROMIUM", "/usr/bin/chromium")
SUBSCRIPTION = """subscription Progress {
  courseProgressUpdates(courseId: "%s") {
    courseId userId lessonId progressPct coursePercent
  }
}
"""


@pytest.fixture(scope="session")
def browser_driver() -> Path:
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian package 'chromium'; .ci/run installs it in CI)")
    return node_with_packages(CLIENT_DIR, "playwright-core cannot drive Chromium")


async def next_step(stdout: asyncio.StreamReader, name: str) -> dict[str, Any]:
    """The driver's next JSON line, which must be step ``name`` (a failure shows its report)."""
    line = await asyncio.wait_for(stdout.readline(), 90)
    assert line, f"the browser driver stopped before {name!r}"
    step: dict[str, Any] = json.loads(line)
    assert step["step"] == name, step
    return step


async def test_graphiql_works_offline_with_tenant_login_dashboard_and_subscription(
    browser_driver: Path,
    env_for_cli: dict[str, str],
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    db: Database,
    tmp_path: Path,
) -> None:
    world = await scene(make_tenant, make_user, db)
    with live_server(env_for_cli) as server:
        plan = {
            "base": server.base,
            "tenant": world.slug,
            "student": world.student.email,
            "teacher": world.teacher.email,
            "password": PASSWORD,
            "dashboard": DASHBOARD.strip() + "\n",
            "subscription": SUBSCRIPTION % world.course_id,
        }
        driver = await asyncio.create_subprocess_exec(
            str(browser_driver),
            str(CLIENT_DIR / "graphiql_browser.mjs"),
            CHROMIUM,
            str(tmp_path),
            json.dumps(plan),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        assert driver.stdout is not None
        try:
            schema = await next_step(driver.stdout, "schema")
            assert schema["errors"] is None
            assert schema["types"] > 50
            bar = await next_step(driver.stdout, "bar")
            assert f"Tenant {world.slug} (sent as the X-Tenant-ID header)" in bar["text"]

            dashboard = (await next_step(driver.stdout, "dashboard"))["result"]["data"]["myDashboard"]
            (enrolled,) = dashboard["enrolledCourses"]
            assert enrolled["course"]["id"] == str(world.course_id)
            assert len(enrolled["course"]["modules"][0]["lessons"]) == 4

            await next_step(driver.stdout, "subscribed")
            student = await server.login(world.slug, world.student.email, PASSWORD)

            async def rise(attempt: int) -> None:  # each rise is an event
                await progress(server, student, world.lessons[0], 70 + attempt)

            shown = await until_delivered(next_step(driver.stdout, "event"), rise)
            event = shown["result"]["data"]["courseProgressUpdates"]
            assert (event["lessonId"], event["userId"]) == (str(world.lessons[0]), str(world.student.id))
            assert 70 <= event["progressPct"] < 90
            subdomain = await next_step(driver.stdout, "subdomain")
            assert subdomain["status"] == 200
            assert f"Tenant {world.slug} (from this page's address)" in subdomain["bar"]
            unknown = await next_step(driver.stdout, "unknown")
            assert 'There is no active tenant "no-such-tenant"' in unknown["bar"]
            done = await next_step(driver.stdout, "done")
        finally:
            if driver.returncode is None:
                driver.kill()
            await driver.wait()
    assert done["outside"] == [], "the page loaded something from outside the server"
    assert done["requested"] > 6
    # No script error and no Content-Security-Policy violation; an unknown tenant's schema
    # request answers 404 (TENANT_NOT_FOUND), which Chromium logs.
    assert [problem for problem in done["problems"] if problem["phase"] != "unknown tenant"] == []
    assert all("status of 404" in problem["text"] for problem in done["problems"]), done["problems"]
    assert (tmp_path / "graphiql-offline.png").stat().st_size > 10_000
    assert (tmp_path / "graphiql-pick-a-tenant.png").is_file()


async def test_the_rest_docs_render_offline_and_try_a_call(
    browser_driver: Path,
    env_for_cli: dict[str, str],
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    db: Database,
    tmp_path: Path,
) -> None:
    world = await scene(make_tenant, make_user, db)
    with live_server(env_for_cli) as server:
        token = await server.login(world.slug, world.student.email, PASSWORD)
        plan = {"base": server.base, "tenant": world.slug, "token": token}
        driver = await asyncio.create_subprocess_exec(
            str(browser_driver),
            str(CLIENT_DIR / "apidocs_browser.mjs"),
            CHROMIUM,
            str(tmp_path),
            json.dumps(plan),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        assert driver.stdout is not None
        try:
            rendered = await next_step(driver.stdout, "rendered")
            assert rendered["operations"] >= 15
            assert "lms-graphql REST API" in rendered["title"]
            tried = await next_step(driver.stdout, "tried")
            assert tried["status"] == "200", tried
            assert str(world.course_id) in tried["body"]
            done = await next_step(driver.stdout, "done")
        finally:
            if driver.returncode is None:
                driver.kill()
            await driver.wait()
    assert done["outside"] == []
    assert done["problems"] == []
    assert (tmp_path / "apidocs.png").stat().st_size > 10_000
