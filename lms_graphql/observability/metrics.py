"""Prometheus metrics: what the server counts, and the text GET /metrics answers.

Under `lms-graphql serve` the metrics use prometheus_client's multiprocess mode: `serve`
creates a private directory (PROMETHEUS_MULTIPROC_DIR) before any worker starts, each worker
writes its values there, and a scrape, whichever worker answers it, merges them all. Gauges of
what lives in a process (websockets, subscriptions, pooled connections) sum the live workers
only; a worker that stops, or died, is marked dead so its gauges leave the sum.

Label values come from small fixed sets: transports, HTTP statuses, plans, error codes, pool
names, and operation names bounded by ``operation_label``. No tenant id or slug, no user, no
client address is ever a label value (see the README for finding a noisy tenant instead).
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from weakref import WeakSet

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection, QueuePool

from lms_graphql.errors import ErrorCode
from lms_graphql.models.tenant import PLANS

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

# Operation names are the client's choice: each process labels at most this many distinct ones
# (first come, and only names of operations that ran), the rest count as "(other)".
MAX_OPERATION_NAMES = 100
NO_OPERATION, OTHER_OPERATION, BATCH = "(none)", "(other)", "(batch)"
NO_PLAN = "(none)"
GRAPHQL_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,63}$")
_CODES = frozenset(code.value for code in ErrorCode)
_PLANS = frozenset(PLANS)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
COST_BUCKETS = (10, 50, 100, 500, 1_000, 5_000, 10_000, 20_000, 50_000, 100_000)
CHECKOUT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
DELAY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)

# Outside multiprocess mode (an app built in a test, without `serve`) the values live here.
_REGISTRY = CollectorRegistry()

REQUESTS = Counter(
    "lms_requests",
    "GraphQL requests over HTTP and queries and mutations over websockets, answered",
    ["transport", "operation", "status", "plan"],
    registry=_REGISTRY,
)
DURATION = Histogram(
    "lms_request_duration_seconds",
    "Time to answer a GraphQL request or websocket operation",
    ["transport", "operation", "plan"],
    buckets=LATENCY_BUCKETS,
    registry=_REGISTRY,
)
COST = Histogram(
    "lms_query_cost", "The cost an operation was charged", ["plan"], buckets=COST_BUCKETS, registry=_REGISTRY
)
REFUSALS = Counter(
    "lms_refusals",
    "Errors answered, by contract code (RATE_LIMITED, QUERY_TOO_COMPLEX, INVALID_TOKEN, ...)",
    ["transport", "code", "plan"],
    registry=_REGISTRY,
)
WEBSOCKETS = Gauge("lms_websockets_open", "Authenticated websockets", multiprocess_mode="livesum", registry=_REGISTRY)
SUBSCRIPTIONS = Gauge(
    "lms_subscriptions_active", "Subscriptions streaming", multiprocess_mode="livesum", registry=_REGISTRY
)
POOL_IN_USE = Gauge(
    "lms_db_pool_connections_in_use",
    "Database connections checked out of the pool",
    ["pool"],
    multiprocess_mode="livesum",
    registry=_REGISTRY,
)
POOL_MAX = Gauge(
    "lms_db_pool_connections_max",
    "Connections the pool may hold (size and overflow)",
    ["pool"],
    multiprocess_mode="livesum",
    registry=_REGISTRY,
)
POOL_CHECKOUT = Histogram(
    "lms_db_pool_checkout_seconds",
    "Time to get a connection from the pool (waiting, checking, or opening one)",
    ["pool"],
    buckets=CHECKOUT_BUCKETS,
    registry=_REGISTRY,
)
POOL_WAITS = Counter(
    "lms_db_pool_waits", "Checkouts that found every connection in use and waited", ["pool"], registry=_REGISTRY
)
POOL_TIMEOUTS = Counter(
    "lms_db_pool_timeouts", "Checkouts that waited in vain (the request failed)", ["pool"], registry=_REGISTRY
)
WORKERS = Gauge(
    "lms_worker_start_time_seconds",
    "When each serving process started (Unix time); under serve, one sample per live worker (label pid)",
    multiprocess_mode="liveall",
    registry=_REGISTRY,
)
PUBLISH_DELAY = Histogram(
    "lms_outbox_publish_delay_seconds",
    "From an event's transaction to its publication on the bus by the outbox relay",
    buckets=DELAY_BUCKETS,
    registry=_REGISTRY,
)

_operation_names: set[str] = set()


def operation_label(name: str | None, *, ran: bool) -> str:
    """The label of an operation name: itself if known, or learnt now from an operation that
    ran for a signed-in user (so neither a name that matches nothing nor an anonymous client
    sending names by the hundred takes a place); otherwise "(other)"."""
    if name is None:
        return NO_OPERATION
    if name in _operation_names:
        return name
    if ran and len(_operation_names) < MAX_OPERATION_NAMES and GRAPHQL_NAME.match(name):
        _operation_names.add(name)
        return name
    return OTHER_OPERATION


def plan_label(plan: str | None) -> str:
    return plan if plan in _PLANS else NO_PLAN


def observe_request(
    *, transport: str, operation: str, status: int, plan: str, seconds: float, cost: int | None
) -> None:
    """One answered request or websocket operation; ``operation`` and ``plan`` are labels."""
    REQUESTS.labels(transport, operation, str(status), plan).inc()
    DURATION.labels(transport, operation, plan).observe(seconds)
    if cost is not None:
        COST.labels(plan).observe(cost)


def count_refusals(transport: str, codes: Iterable[str | None], plan: str) -> None:
    for code in codes:
        REFUSALS.labels(transport, code if code in _CODES else "OTHER", plan).inc()


def socket_opened() -> None:
    WEBSOCKETS.inc()


def socket_closed() -> None:
    WEBSOCKETS.dec()


@contextlib.contextmanager
def subscription_streaming() -> Iterator[None]:
    SUBSCRIPTIONS.inc()
    try:
        yield
    finally:
        SUBSCRIPTIONS.dec()


def observe_publish_delays(delays: Iterable[float]) -> None:
    for seconds in delays:
        PUBLISH_DELAY.observe(max(seconds, 0.0))


_watched: WeakSet[Any] = WeakSet()


def watch_pool(engine: AsyncEngine, name: str) -> None:
    """Count ``engine``'s pooled connections in use, checkouts that waited and how long they took."""
    pool = engine.sync_engine.pool
    if pool in _watched:
        return
    _watched.add(pool)
    in_use = POOL_IN_USE.labels(name)

    def checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        in_use.inc()

    def returned(dbapi_connection: Any, record: Any) -> None:
        in_use.dec()

    event.listen(pool, "checkout", checked_out)
    event.listen(pool, "checkin", returned)
    event.listen(pool, "detach", returned)  # a detached connection never comes back
    if not isinstance(pool, QueuePool):
        return
    capacity = pool.size() + max(pool._max_overflow, 0)
    POOL_MAX.labels(name).set(capacity)
    connect = pool.connect
    checkout, waits, timeouts = POOL_CHECKOUT.labels(name), POOL_WAITS.labels(name), POOL_TIMEOUTS.labels(name)

    # SQLAlchemy has no event for the start of a checkout: the engine's one way to a
    # connection, Pool.connect, is timed instead.
    def timed_connect() -> PoolProxiedConnection:
        if pool.checkedout() >= capacity:
            waits.inc()
        started = time.perf_counter()
        try:
            return connect()
        except sa_exc.TimeoutError:
            timeouts.inc()
            raise
        finally:
            checkout.observe(time.perf_counter() - started)

    pool.connect = timed_connect  # type: ignore[method-assign]


def worker_started() -> None:
    WORKERS.set(time.time())


def worker_stopped() -> None:
    """This process serves no more: its live gauges leave the sums."""
    path = os.environ.get(MULTIPROCESS_DIR_VARIABLE)
    if path:
        mark_process_dead(os.getpid(), path)  # type: ignore[no-untyped-call]


class _Fixed:
    def __init__(self, metrics: Iterable[Metric]) -> None:
        self.metrics = list(metrics)

    def collect(self) -> Iterable[Metric]:
        return self.metrics


class _OwnRegistry:
    def collect(self) -> Iterable[Metric]:
        return _REGISTRY.collect()


def exposition(backlog: tuple[int, float] | None) -> bytes:
    """The Prometheus text of every worker's metrics, and the outbox ``backlog`` (unpublished
    events of active tenants, the oldest one's age in seconds) when it could be read."""
    registry = CollectorRegistry()
    path = os.environ.get(MULTIPROCESS_DIR_VARIABLE)
    if path:
        _forget_dead_workers(Path(path))
        MultiProcessCollector(registry, path)  # type: ignore[no-untyped-call]
    else:
        registry.register(_OwnRegistry())
    if backlog is not None:
        events, oldest_age = backlog
        registry.register(
            _Fixed(
                [
                    GaugeMetricFamily(
                        "lms_outbox_backlog_events", "Events of active tenants not yet published", value=events
                    ),
                    GaugeMetricFamily(
                        "lms_outbox_oldest_unpublished_age_seconds",
                        "Age of the oldest event not yet published (0 when none is waiting)",
                        value=oldest_age,
                    ),
                ]
            )
        )
    return generate_latest(registry)


def _forget_dead_workers(path: Path) -> None:
    """Workers that died without stopping (a crash, kill -9) leave their live gauges behind."""
    for file in path.glob("gauge_live*_*.db"):
        pid = file.stem.rsplit("_", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            mark_process_dead(int(pid), str(path))  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
