"""The benchmark keeps working: its quick mode runs end to end (a smoke test, no timings asserted).
Without the PostGraphile peer, which adds a quarter to the run: tests/test_bench_peer.py checks it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def test_quick_bench_runs_end_to_end() -> None:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("LMS_")}
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--no-peer"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert "| dashboard |" in result.stdout
    report = json.loads(result.stdout[result.stdout.index("{") :])
    # Statement counts are not timings: the dashboard's target holds in every run.
    statements = report["dashboard_statements"]
    assert statements["1 course"] == statements["50 courses"] <= 8, statements
    assert report["live"]["fan_out"]["deliveries"] == 100 * 10


def run_quick(module: str) -> dict[str, object]:
    """``python -m module --quick`` on the embedded database; its JSON report."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("LMS_")}
    result = subprocess.run(
        [sys.executable, "-m", module, "--quick"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    report: dict[str, object] = json.loads(result.stdout[result.stdout.index("{") :])
    return report


def test_documents_bench_runs_end_to_end() -> None:
    report: dict[str, Any] = run_quick("bench.documents")
    for scenario in ("dashboard", "catalogue", "first sight"):
        for sent in ("by_id", "as_text"):
            assert report[scenario][sent]["errors"] == 0, (scenario, sent, report[scenario][sent])


def test_rest_bench_runs_end_to_end() -> None:
    report: dict[str, Any] = run_quick("bench.rest")
    for sent in ("rest", "graphql"):
        assert report["course_list"][sent]["errors"] == 0, report["course_list"][sent]


def test_media_bench_runs_end_to_end() -> None:
    from tests.support.content import ffmpeg_or_skip

    ffmpeg_or_skip()
    report: dict[str, Any] = run_quick("bench.media")
    (clip,) = report["clips"]
    assert clip["renditions"] == ["360p", "720p"]
    assert clip["pipeline"]["bytes"] > 0


def test_placements_bench_runs_end_to_end() -> None:
    report: dict[str, Any] = run_quick("bench.placements")
    assert set(report["dashboard"]) == {"pool", "bridge", "silo", "pool again"}
    for label, run in report["dashboard"].items():
        assert run["errors"] == 0, (label, run)
    assert [(move["from"], move["to"]) for move in report["moves"]] == [
        ("pool", "bridge"),
        ("bridge", "silo"),
        ("silo", "pool"),
    ]
    assert report["bridges"]["schemas"] == 5
    assert report["silos"]["databases"] == 2


def test_lifecycle_bench_runs_end_to_end() -> None:
    report: dict[str, Any] = run_quick("bench.lifecycle")
    assert report["export"]["rows"] == report["import"]["rows"] > 0
    reports = report["reports"]
    assert reports["gradebook"]["rows"] == reports["completion"]["rows"] == report["students"]
