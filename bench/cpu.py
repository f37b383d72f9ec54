"""CPU time spent by process trees during a measurement (user + system, via psutil)."""

from __future__ import annotations

import contextlib

import psutil
import psycopg


def tree_times(roots: list[int]) -> dict[int, float]:
    """CPU seconds so far of each process in the trees under ``roots``."""
    times: dict[int, float] = {}
    for root in roots:
        with contextlib.suppress(psutil.Error):
            parent = psutil.Process(root)
            for process in [parent, *parent.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    spent = process.cpu_times()
                    times[process.pid] = spent.user + spent.system
    return times


def spent_between(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two snapshots (by processes alive at the second; one that
    started in between counts from zero, one that ended in between is lost)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def postmaster_pid(conninfo: str) -> int | None:
    """The database server's main process, when it runs on this machine (its backends are its
    children); None when it is elsewhere or out of reach."""
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        # Looked up while the connection is open: its backend exits when it closes.
        with contextlib.suppress(psutil.Error):
            postmaster = psutil.Process(int(row[0])).parent()
            if postmaster is not None and "postgres" in postmaster.name():
                return int(postmaster.pid)
    return None
