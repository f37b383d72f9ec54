"""Running the app under uvicorn, with one or several worker processes."""

from __future__ import annotations

import gc
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import psutil
import uvicorn
from uvicorn.supervisors import Multiprocess

from lms_graphql.kit.db import DatabaseUrls

# Read by prometheus_client when it is imported: nothing in this process may import it before
# the variable is set (lms_graphql.observability.metrics is imported by the app).
MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
METRICS_DIR_PREFIX = "lms-metrics-"


def serve(
    urls: DatabaseUrls, *, host: str, port: int, workers: int, log_config: dict[str, Any], log_level: str
) -> None:
    # Workers are separate processes that build the app from the environment: hand them the
    # database this process resolved (the embedded server it started, if any).
    if urls.owner is not None:
        os.environ["LMS_DATABASE_URL"] = urls.owner.render_as_string(hide_password=False)
    if not urls.app_password_managed:
        os.environ["LMS_APP_DATABASE_URL"] = urls.app.render_as_string(hide_password=False)
    if workers > 1 and not os.environ.get("LMS_BROADCAST_URL"):
        # Several processes: subscribers in one must hear commits made in another.
        os.environ["LMS_BROADCAST_URL"] = "postgres"
    # uvicorn re-raises the signal that stopped it once it has shut down; with the default
    # SIGTERM disposition that kills the process before atexit handlers run, leaving the
    # embedded PostgreSQL running. Exiting through SystemExit lets them run.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    # A closed terminal (SIGHUP) stops the server as SIGTERM does. uvicorn drains only on SIGTERM
    # and SIGINT, so a hang-up becomes a SIGTERM; its worker supervisor would restart the workers
    # on SIGHUP instead, and keep running with the embedded PostgreSQL after the terminal is gone.
    signal.signal(signal.SIGHUP, _terminate_on_hangup)
    if workers > 1:
        Multiprocess.handle_hup = _supervisor_exits_on_hangup  # type: ignore[method-assign]
    # Every worker writes its metrics here and a scrape merges them (prometheus_client's
    # multiprocess mode). Fresh each time: values left by an earlier run would be counted too.
    # Named after this process, so the next start removes what a killed one left behind.
    _remove_orphaned_metrics_dirs()
    metrics_dir = tempfile.mkdtemp(prefix=f"{METRICS_DIR_PREFIX}{os.getpid()}-")
    os.environ[MULTIPROCESS_DIR_VARIABLE] = metrics_dir
    try:
        _run(host=host, port=port, workers=workers, log_config=log_config, log_level=log_level)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _run(*, host: str, port: int, workers: int, log_config: dict[str, Any], log_level: str) -> None:
    uvicorn.run(
        "lms_graphql.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # Behind a reverse proxy every client would share the proxy's address (sign-in throttling,
        # rate limits, logs). With FORWARDED_ALLOW_IPS set (uvicorn reads it), the address comes
        # from X-Forwarded-For when the peer is one of those proxies; otherwise headers are ignored.
        proxy_headers=bool(os.environ.get("FORWARDED_ALLOW_IPS")),
        server_header=False,
        # Each worker configures logging with this too; uvicorn's access log is off: the
        # lms_graphql.access line says more about each request.
        log_config=log_config,
        log_level=log_level,
        access_log=False,
        # SIGTERM: stop accepting, let in-flight requests finish, close websockets (1012),
        # all within this bound; the lifespan then flushes the outbox relay.
        timeout_graceful_shutdown=10,
        ws_max_size=1_048_576,  # a websocket frame is no larger than an HTTP body
        # Live messages are a few hundred bytes: compressing each one for each subscriber cost
        # more CPU than it saved bytes (5 % of a 1 000-subscriber fan-out).
        ws_per_message_deflate=False,
    )


# A serving process holds a few hundred GC-tracked objects per websocket subscription (uvicorn's
# protocol, strawberry's handler and stream, the feed), about 450 000 with 1 000 subscribers. With
# CPython's default first threshold (700 net allocations) a fan-out to them ran dozens of young
# collections per event, and every few events a full one: 100-400 ms pauses, which were the
# fan-out's p99 (measured: BENCHMARKS.md). Young collections every 10 000 net allocations keep
# objects of one event's burst from being promoted, and full collections out of steady state.
GC_THRESHOLDS = (10_000, 10, 10)


def settle_collector() -> None:
    """In a serving process, once the app is built: what exists now (modules, the schema) lives
    as long as the process, so full collections stop scanning it; young collections are rarer."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def drain_on_hangup() -> Callable[[], None]:
    """In a serving process (a worker too: a closed terminal signals the whole process group),
    a hang-up drains as SIGTERM does instead of killing it mid-request. Returns the undo."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.signal(signal.SIGHUP, _terminate_on_hangup)

    def restore() -> None:
        signal.signal(signal.SIGHUP, previous)

    return restore


def _remove_orphaned_metrics_dirs() -> None:
    for directory in Path(tempfile.gettempdir()).glob(f"{METRICS_DIR_PREFIX}*-*"):
        pid = directory.name.removeprefix(METRICS_DIR_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not psutil.pid_exists(int(pid)):
            shutil.rmtree(directory, ignore_errors=True)


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    sys.exit(128 + signum)


def _terminate_on_hangup(signum: int, frame: FrameType | None) -> None:
    signal.raise_signal(signal.SIGTERM)


def _supervisor_exits_on_hangup(self: Multiprocess) -> None:
    logging.getLogger("uvicorn.error").info("Received SIGHUP, exiting.")
    self.should_exit.set()  # then it stops the workers with SIGTERM, as on SIGTERM
