#!/usr/bin/env python3
"""The two setup commands of the README, runnable on a machine with only Python 3.11+.

    python3 dev.py serve   # virtualenv, embedded PostgreSQL, migrations, demo data, server
    python3 dev.py test    # virtualenv with test tools, pytest, ruff check/format, mypy

Both create .venv on first use and reinstall when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def ensure_venv(extras: str) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be started by an older python3
        sys.exit(f"lms-graphql needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print(f"creating virtualenv in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    pyproject = (ROOT / "pyproject.toml").read_bytes()
    stamp = VENV / f".installed-{extras or 'base'}"
    digest = hashlib.sha256(pyproject).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    target = f".[{extras}]" if extras else "."
    print(f"installing lms-graphql{f'[{extras}]' if extras else ''} into {VENV}", flush=True)
    subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], cwd=ROOT, check=True)
    subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", "-e", target], cwd=ROOT, check=True)
    stamp.write_text(digest)


def run(*argv: str | Path) -> int:
    with subprocess.Popen([str(a) for a in argv], cwd=ROOT) as process:
        # A supervisor stopping dev.py stops the server too (and so its database).
        signal.signal(signal.SIGTERM, lambda signum, frame: process.send_signal(signum))
        while True:
            try:
                return process.wait()
            except KeyboardInterrupt:
                # Ctrl-C reached the child too; let it shut down (and stop its database).
                continue


def serve(extra: list[str]) -> int:
    ensure_venv("")
    return run(BIN / "lms-graphql", "serve", "--demo", *extra)


def local_redis_answers(host: str = "127.0.0.1", port: int = 6379) -> bool:
    """A Redis on this machine (as CI has): the multi-instance tests run against it."""
    try:
        with socket.create_connection((host, port), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def test(extra: list[str]) -> int:
    ensure_venv("dev")
    if not os.environ.get("LMS_TEST_REDIS_URL") and local_redis_answers():
        os.environ["LMS_TEST_REDIS_URL"] = "redis://127.0.0.1:6379/15"
    steps = [
        ("pytest", [PYTHON, "-m", "pytest", *extra]),
        ("ruff check", [PYTHON, "-m", "ruff", "check", "."]),
        ("ruff format --check", [PYTHON, "-m", "ruff", "format", "--check", "."]),
        ("mypy", [PYTHON, "-m", "mypy"]),
    ]
    failed = []
    for name, argv in steps:
        print(f"==> {name}", flush=True)
        if run(*argv) != 0:
            failed.append(name)
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    print("all checks passed")
    return 0


def main() -> int:
    commands = {"serve": serve, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        return commands[sys.argv[1]](sys.argv[2:])
    except subprocess.CalledProcessError as exc:
        print(f"dev.py: {' '.join(map(str, exc.cmd))} failed with exit code {exc.returncode}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
