"""Configuration from the environment (see the contract's table of LMS_* variables)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from lms_graphql.kit.secrets import read_or_create_secret
from lms_graphql.models.tenant import REGIONS

DEFAULT_DATA_DIR = "./.lms-data"
DEFAULT_APP_ROLE = "lms_app"
LOG_FORMATS = ("json", "human")  # the first is the default
# Which documents a tenant's clients may send: any, or registered ones only (documents/policy.py).
DOCUMENT_MODES = ("any", "trusted-only")  # the first is the default
LOG_LEVELS = ("info", "debug", "warning", "error")
# Where `serve` runs the job queue's worker: in its own process (the default, so the embedded
# start does everything), or not at all (run `lms-graphql worker` beside it).
WORKER_MODES = ("in-process", "off")
MIN_METRICS_TOKEN_LENGTH = 16


@dataclass(frozen=True)
class Settings:
    database_url: str | None
    app_database_url: str | None
    data_dir: Path
    base_domain: str
    broadcast_url: str | None
    app_role: str
    jwt_secret_env: str | None = field(repr=False)
    jwt_keys_env: str | None = field(default=None, repr=False)
    jwt_keys_file: Path | None = None
    ws_max_subscriptions: int = 20
    ws_max_connections_per_user: int = 10
    ws_init_timeout_seconds: int = 10
    bus_queue_size: int = 1_000
    outbox_sweep_seconds: int = 300
    outbox_retention_days: int = 7
    graphiql: bool = True
    introspection: bool = True
    rate_limit_url: str | None = None
    max_body_bytes: int = 1_048_576
    allow_batching: bool = False
    bench: bool = False  # LMS_BENCH: count (and on request return) each request's SQL
    compiled_reads: bool = True  # LMS_COMPILED_READS: answer the read types' queries with one statement
    tenant_path_prefix: bool = False  # LMS_TENANT_PATH_PREFIX: serve /tenants/{slug}/graphql and /api/v1
    documents: str = "any"  # LMS_TRUSTED_DOCUMENTS: "trusted-only" holds every tenant to registered documents
    metrics_token: str | None = field(default=None, repr=False)  # None: GET /metrics answers 404
    log_format: str = "json"
    log_level: str = "info"
    storage_url: str | None = None  # LMS_STORAGE_URL: s3://bucket/prefix; None: files under data_dir/objects
    storage_secret_env: str | None = field(default=None, repr=False)  # LMS_STORAGE_SECRET
    worker: str = "in-process"  # LMS_WORKER
    worker_concurrency: int = 2  # LMS_WORKER_CONCURRENCY: jobs a worker runs at once
    region: str = "eu-west-1"  # LMS_REGION: where the main database server is
    clusters: str = ""  # LMS_CLUSTERS: more database servers for bridge and silo tenants (kit/clusters.py)

    @classmethod
    def from_env(cls, env: os._Environ[str] | dict[str, str] | None = None) -> Settings:
        source = os.environ if env is None else env
        return cls(
            database_url=secret_setting(source, "LMS_DATABASE_URL"),
            app_database_url=secret_setting(source, "LMS_APP_DATABASE_URL"),
            data_dir=Path(source.get("LMS_DATA_DIR") or DEFAULT_DATA_DIR).expanduser().absolute(),
            base_domain=(source.get("LMS_BASE_DOMAIN") or "localhost").lower().strip("."),
            broadcast_url=secret_setting(source, "LMS_BROADCAST_URL"),
            app_role=source.get("LMS_APP_ROLE") or DEFAULT_APP_ROLE,
            jwt_secret_env=secret_setting(source, "LMS_JWT_SECRET"),
            jwt_keys_env=source.get("LMS_JWT_KEYS") or None,
            jwt_keys_file=Path(source["LMS_JWT_KEYS_FILE"]) if source.get("LMS_JWT_KEYS_FILE") else None,
            ws_max_subscriptions=_int(source, "LMS_WS_MAX_SUBSCRIPTIONS", 20, 1, 1_000),
            ws_max_connections_per_user=_int(source, "LMS_WS_MAX_CONNECTIONS_PER_USER", 10, 1, 1_000_000),
            ws_init_timeout_seconds=_int(source, "LMS_WS_INIT_TIMEOUT_SECONDS", 10, 1, 600),
            bus_queue_size=_int(source, "LMS_BUS_QUEUE_SIZE", 1_000, 1, 1_000_000),
            outbox_sweep_seconds=_int(source, "LMS_OUTBOX_SWEEP_SECONDS", 300, 1, 86_400),
            outbox_retention_days=_int(source, "LMS_OUTBOX_RETENTION_DAYS", 7, 1, 3_650),
            graphiql=_bool(source, "LMS_GRAPHIQL", True),
            introspection=_bool(source, "LMS_INTROSPECTION", True),
            rate_limit_url=secret_setting(source, "LMS_RATE_LIMIT_URL"),
            max_body_bytes=_int(source, "LMS_MAX_BODY_BYTES", 1_048_576, 1_024, 100 * 1_048_576),
            allow_batching=_bool(source, "LMS_ALLOW_BATCHING", False),
            bench=_bool(source, "LMS_BENCH", False),
            compiled_reads=_bool(source, "LMS_COMPILED_READS", True),
            documents=_choice(source, "LMS_TRUSTED_DOCUMENTS", DOCUMENT_MODES),
            tenant_path_prefix=_bool(source, "LMS_TENANT_PATH_PREFIX", False),
            metrics_token=_metrics_token(source),
            log_format=_choice(source, "LMS_LOG_FORMAT", LOG_FORMATS),
            log_level=_choice(source, "LMS_LOG_LEVEL", LOG_LEVELS),
            storage_url=source.get("LMS_STORAGE_URL") or None,
            storage_secret_env=secret_setting(source, "LMS_STORAGE_SECRET"),
            worker=_choice(source, "LMS_WORKER", WORKER_MODES),
            worker_concurrency=_int(source, "LMS_WORKER_CONCURRENCY", 2, 1, 64),
            region=_choice(source, "LMS_REGION", REGIONS),
            clusters=secret_setting(source, "LMS_CLUSTERS") or "",
        )

    @cached_property
    def jwt_keys(self) -> tuple[tuple[str, str], ...]:
        """(kid, secret) pairs, newest first: the first signs, all verify.

        LMS_JWT_KEYS ("kid=secret,kid=secret") or LMS_JWT_KEYS_FILE (one "kid=secret" per
        line) when rotating; otherwise the single key LMS_JWT_SECRET or the generated one,
        under kid "default".
        """
        if self.jwt_keys_env:
            return parse_jwt_keys(self.jwt_keys_env.split(","), "LMS_JWT_KEYS")
        if self.jwt_keys_file:
            try:
                lines = self.jwt_keys_file.read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                message = f"cannot read LMS_JWT_KEYS_FILE {self.jwt_keys_file}: {exc.strerror}"
                raise ConfigError(message) from None
            return parse_jwt_keys(lines, "LMS_JWT_KEYS_FILE")
        return parse_jwt_keys([f"default={self.jwt_secret}"], "LMS_JWT_SECRET")

    @cached_property
    def jwt_secret(self) -> str:
        """LMS_JWT_SECRET, else a secret generated once and stored (0600) in the data dir."""
        if self.jwt_secret_env:
            return self.jwt_secret_env
        return read_or_create_secret(self.data_dir / "jwt-secret")

    @cached_property
    def storage_secret(self) -> bytes:
        """What signs the URLs this server serves itself (local files, playlists):
        LMS_STORAGE_SECRET, else a secret generated once into the data directory (instances
        sharing it, as compose's replicas share the content volume, agree on it). Not derived
        from the JWT keys: rotating those would break every link handed out."""
        if self.storage_secret_env:
            return self.storage_secret_env.encode()
        return read_or_create_secret(self.data_dir / "storage-secret").encode()


class ConfigError(ValueError):
    """A setting that cannot work; the message names the variable."""


# Settings that may carry a password or key: each can also be read from a file named by the
# same variable with _FILE appended (a mounted secret, e.g. compose's /run/secrets/...).
SECRET_SETTINGS = (
    "LMS_DATABASE_URL",
    "LMS_APP_DATABASE_URL",
    "LMS_CLUSTERS",
    "LMS_JWT_SECRET",
    "LMS_BROADCAST_URL",
    "LMS_RATE_LIMIT_URL",
    "LMS_METRICS_TOKEN",
    "LMS_STORAGE_SECRET",
)


def secret_setting(source: Mapping[str, str], name: str) -> str | None:
    """``name``'s value; when it is unset, the contents of the file ``name``_FILE names.

    The variable itself wins: `serve` hands the URLs it resolved to its workers that way.
    """
    assert name in SECRET_SETTINGS, name
    if value := source.get(name):
        return value
    if path := source.get(f"{name}_FILE"):
        return read_secret_file(f"{name}_FILE", Path(path))
    return None


def read_secret_file(variable: str, path: Path) -> str:
    """The secret in ``path`` without surrounding whitespace (the newline editors add)."""
    try:
        value = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise ConfigError(f"{variable}: no file at {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"{variable}: {path} is a directory, not a file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{variable}: {path} is not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{variable}: cannot read {path}: {exc.strerror}") from None
    if not value:
        raise ConfigError(f"{variable}: the file {path} is empty")
    return value


def _metrics_token(source: Mapping[str, str]) -> str | None:
    token = secret_setting(source, "LMS_METRICS_TOKEN")
    if token is not None and len(token) < MIN_METRICS_TOKEN_LENGTH:
        raise ConfigError(f"LMS_METRICS_TOKEN must be at least {MIN_METRICS_TOKEN_LENGTH} characters")
    return token


def _bool(source: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (source.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _choice(source: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (any case); the first is the default."""
    raw = (source.get(name) or "").strip().lower()
    if not raw:
        return choices[0]
    if raw not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw


def _int(source: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = source.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


MIN_JWT_SECRET_LENGTH = 32  # HS256 wants a key at least as long as its 256-bit output


def parse_jwt_keys(entries: list[str], source: str) -> tuple[tuple[str, str], ...]:
    keys: list[tuple[str, str]] = []
    for entry in (e.strip() for e in entries):
        if not entry or entry.startswith("#"):
            continue
        kid, sep, secret = entry.partition("=")
        kid, secret = kid.strip(), secret.strip()
        if not sep or not kid or not secret:
            raise ConfigError(f"{source}: expected kid=secret entries, got {entry[:12]!r}...")
        if len(secret) < MIN_JWT_SECRET_LENGTH:
            raise ConfigError(f"{source}: the key {kid!r} must be at least {MIN_JWT_SECRET_LENGTH} characters")
        if any(kid == known for known, _ in keys):
            raise ConfigError(f"{source}: the key id {kid!r} appears twice")
        keys.append((kid, secret))
    if not keys:
        raise ConfigError(f"{source}: no keys")
    return tuple(keys)
