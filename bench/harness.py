"""Shared bench plumbing: a database of its own, a real server process, timing helpers."""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from lms_graphql.kit.db import normalize_url
from lms_graphql.kit.embedded import start_embedded_postgres

CONSOLE_SCRIPT = Path(sys.executable).parent / "lms-graphql"
BENCH_KEYS = "bench-key=" + "b" * 48


def raise_file_limit() -> int:
    """As many open files as the hard limit allows (sockets are files); children inherit it."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


@contextlib.contextmanager
def bench_database() -> Iterator[str]:
    """An owner URL: LMS_DATABASE_URL's server with a fresh database, or an embedded server."""
    configured = os.environ.get("LMS_DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="lms-bench-") as scratch:
        server = normalize_url(configured) if configured else normalize_url(start_embedded_postgres(Path(scratch)))
        name = f"lms_bench_{os.getpid()}"
        import psycopg

        admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]

    @property
    def ws_url(self) -> str:
        return self.base.replace("http://", "ws://") + "/graphql"


@contextlib.contextmanager
def run_server(owner_url: str, *extra: str, **env: str) -> Iterator[Server]:
    port = free_port()
    environment = {**os.environ, "LMS_DATABASE_URL": owner_url, "LMS_JWT_KEYS": BENCH_KEYS, **env}
    process = subprocess.Popen(
        [CONSOLE_SCRIPT, "serve", "--port", str(port), *extra],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            time.sleep(0.2)
        else:
            raise RuntimeError("the server did not become ready")
        yield Server(base, process)
    finally:
        process.terminate()
        process.wait(timeout=30)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]
