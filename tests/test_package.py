"""The project installs as Python services are deployed: a wheel built from the checkout,
installed into a fresh virtualenv outside it, migrates a fresh database (twice) and serves."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import URL

from tests.support.database import libpq_url
from tests.support.servers import free_port, stop, wait_until_ready

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fresh_database(server_url: URL) -> Iterator[URL]:
    name = f"lms_wheel_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield server_url.set(database=name)
    with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(argv: list[str | Path], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], env=env, cwd=cwd, capture_output=True, text=True, timeout=600)


def test_the_wheel_installs_migrates_and_serves(tmp_path: Path, fresh_database: URL) -> None:
    dist = tmp_path / "dist"
    built = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, ROOT], dict(os.environ), tmp_path)
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("lms_graphql-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "lms_graphql/migrations/env.py" in names
    assert any(name.startswith("lms_graphql/migrations/versions/0001_") for name in names)
    assert "lms_graphql/static/graphiql/vendor/MANIFEST.json" in names  # GraphiQL served offline
    assert "lms_graphql/static/apidocs/vendor/MANIFEST.json" in names  # and the REST docs
    assert "lms_graphql/static/apidocs/lms-apidocs.js" in names

    environment = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(environment)
    installed = run([environment / "bin" / "python", "-m", "pip", "install", "-q", wheel], dict(os.environ), tmp_path)
    assert installed.returncode == 0, installed.stderr
    script = environment / "bin" / "lms-graphql"
    elsewhere = tmp_path / "elsewhere"  # not the checkout: nothing may come from it
    elsewhere.mkdir()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "LMS_DATABASE_URL": fresh_database.render_as_string(hide_password=False),
        "LMS_DATA_DIR": str(tmp_path / "data"),
    }
    first, second = run([script, "migrate"], env, elsewhere), run([script, "migrate"], env, elsewhere)
    assert (first.returncode, second.returncode) == (0, 0), (first.stderr, second.stderr)
    assert "migrated empty ->" in first.stderr
    assert "is up to date" in second.stderr
    created = run([script, "tenant", "create", "wheelu", "--name", "Wheel University"], env, elsewhere)
    assert created.returncode == 0, created.stderr

    port = free_port()
    started = time.monotonic()
    process = subprocess.Popen(
        [str(script), "serve", "--port", str(port)],
        env=env,
        cwd=elsewhere,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(process, base)
        print(f"wheel {wheel.stat().st_size} bytes; serve ready in {time.monotonic() - started:.1f} s")
        reply = httpx.post(f"{base}/graphql", json={"query": "{ tenant { slug } }"}, headers={"X-Tenant-ID": "wheelu"})
        assert reply.json() == {"data": {"tenant": {"slug": "wheelu"}}}
        page = httpx.get(f"{base}/graphql", headers={"Accept": "text/html"})
        assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
        assert len(assets) == 6
        assert all(httpx.get(base + asset).status_code == 200 for asset in assets)
    finally:
        stop(process)
