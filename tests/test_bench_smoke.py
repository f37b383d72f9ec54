"""The benchmark keeps working: its quick mode runs end to end (a smoke test, no timings asserted)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_bench_runs_end_to_end() -> None:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("LMS_")}
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert "| dashboard |" in result.stdout
    assert '"dashboard_statements"' in result.stdout
