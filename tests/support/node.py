"""Node.js test clients (npm packages pinned by each directory's package-lock.json)."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")


def node_with_packages(directory: Path, purpose: str) -> Path:
    """node, with ``directory``'s packages installed as its lock file pins them (again when the
    lock file changed since the last install); skips the test without node and npm."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip(f"node and npm are not installed: {purpose}")
    lock = hashlib.sha256((directory / "package-lock.json").read_bytes()).hexdigest()
    stamp = directory / "node_modules" / ".installed-lock-sha256"
    if not stamp.exists() or stamp.read_text() != lock:
        subprocess.run([npm, "ci", "--silent", "--no-audit", "--no-fund"], cwd=directory, check=True, timeout=300)
        stamp.write_text(lock)
    return Path(node)


async def until_delivered(
    delivered: Awaitable[T], nudge: Callable[[int], Awaitable[None]], *, every: float = 1.0, attempts: int = 20
) -> T:
    """Nudge (attempt 0, 1, ...) until ``delivered`` completes: a subscriber whose subscription
    is not yet registered on the server misses a nudge, and gets the next one."""
    waiting = asyncio.ensure_future(delivered)
    try:
        for attempt in range(attempts):
            await nudge(attempt)
            done, _ = await asyncio.wait({waiting}, timeout=every)
            if done:
                return waiting.result()
        raise AssertionError(f"nothing delivered after {attempts} nudges")
    finally:
        waiting.cancel()
