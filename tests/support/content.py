"""Content storage in tests: a real S3 API server (moto's standalone server, a process of its own
speaking HTTP), jobs run on demand, and small media made by FFmpeg's test sources."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from lms_graphql.jobs.queue import JobServices, job_queue, keep_house, run_worker
from lms_graphql.kit.db import Database
from lms_graphql.storage.backends import Storage
from tests.support.servers import free_port

S3_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@contextmanager
def s3_server() -> Iterator[str]:
    """moto's S3 API on a free port; yields its endpoint URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{endpoint}/moto-api/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("moto's S3 server did not start") from None
                time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


def use_s3(monkeypatch: pytest.MonkeyPatch, endpoint: str, bucket: str) -> None:
    """boto3's environment for ``endpoint``, and the bucket created there."""
    import boto3

    for name, value in {**S3_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint}.items():
        monkeypatch.setenv(name, value)
    boto3.client("s3").create_bucket(Bucket=bucket)


async def run_jobs(db: Database, storage: Storage) -> None:
    """Every job that is due now, run by a worker of the test's own (until none is left)."""
    await run_worker(job_queue(db.engine.url, JobServices(db, storage), pool_size=2), concurrency=1, wait=False)


async def keep_house_at(db: Database, storage: Storage, now: datetime) -> None:
    """The housekeeping job's work (dead workers' jobs, abandoned uploads) as if it ran at ``now``."""
    queue = job_queue(db.engine.url, JobServices(db, storage), pool_size=2)
    async with queue.open_async():
        await keep_house(queue, JobServices(db, storage), now)


def ffmpeg_or_skip() -> str:
    found = shutil.which("ffmpeg")
    if found is None:
        pytest.skip("no ffmpeg (Debian package 'ffmpeg'; .ci/run installs it in CI)")
    return found


def make_clip(target: Path, seconds: float, width: int = 1280, height: int = 720) -> Path:
    """An MP4 with a moving test picture and a tone, made by FFmpeg (nothing downloaded)."""
    ffmpeg = ffmpeg_or_skip()
    subprocess.run(
        [
            ffmpeg, "-nostdin", "-y", "-v", "error",
            "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate=24:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
            "-movflags", "+faststart", str(target),
        ],
        check=True,
        env={**os.environ},
    )  # fmt: skip
    return target
