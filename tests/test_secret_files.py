"""Secrets read from files (LMS_*_FILE): what compose's `secrets:` mount under /run/secrets."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
import jwt
import psycopg
import pytest

from lms_graphql.config import DEFAULT_APP_ROLE, SECRET_SETTINGS, ConfigError, Settings, read_secret_file
from lms_graphql.migrate import head_revision
from tests.support.database import OwnedDatabaseUrls
from tests.support.people import unique_slug
from tests.support.servers import CONSOLE_SCRIPT, free_port, run_server, stop, wait_until_ready

JWT_SECRET = "s" * 48


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_every_secret_setting_reads_its_file(tmp_path: Path) -> None:
    values = {
        "LMS_DATABASE_URL": "postgresql://owner:pw@db:5432/lms",
        "LMS_APP_DATABASE_URL": "postgresql://lms_app:pw2@db:5432/lms",
        "LMS_JWT_SECRET": JWT_SECRET,
        "LMS_BROADCAST_URL": "redis://:pw3@redis:6379/0",
        "LMS_RATE_LIMIT_URL": "redis://:pw4@redis:6379/1",
        "LMS_METRICS_TOKEN": "scrape-token-0123456789",
        "LMS_STORAGE_SECRET": "url-signing-secret-0123456789",
        "LMS_CLUSTERS": "us@us-east-1=postgresql://owner:pw5@db-us:5432/lms",
    }
    assert set(values) == set(SECRET_SETTINGS)
    # The trailing newline an editor or `echo` leaves is not part of the secret.
    env = {f"{name}_FILE": str(write(tmp_path / name, value + "\n")) for name, value in values.items()}
    settings = Settings.from_env({**env, "LMS_DATA_DIR": str(tmp_path / "data")})
    assert settings.database_url == values["LMS_DATABASE_URL"]
    assert settings.app_database_url == values["LMS_APP_DATABASE_URL"]
    assert settings.jwt_secret == JWT_SECRET
    assert settings.broadcast_url == values["LMS_BROADCAST_URL"]
    assert settings.rate_limit_url == values["LMS_RATE_LIMIT_URL"]
    assert settings.metrics_token == values["LMS_METRICS_TOKEN"]
    assert settings.storage_secret == values["LMS_STORAGE_SECRET"].encode()
    assert settings.clusters == values["LMS_CLUSTERS"]
    assert not (tmp_path / "data").exists()  # no secret was generated instead


def test_the_variable_itself_wins_over_its_file(tmp_path: Path) -> None:
    # `serve` hands its workers the URLs it resolved as plain variables, next to the _FILE ones.
    secret_file = write(tmp_path / "url", "postgresql://from-file@db/lms")
    settings = Settings.from_env(
        {"LMS_DATABASE_URL": "postgresql://from-env@db/lms", "LMS_DATABASE_URL_FILE": str(secret_file)}
    )
    assert settings.database_url == "postgresql://from-env@db/lms"


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: d / "missing", "LMS_JWT_SECRET_FILE: no file at"),
        (lambda d: write(d / "empty", " \n"), "LMS_JWT_SECRET_FILE: the file .* is empty"),
        (lambda d: d, "LMS_JWT_SECRET_FILE: .* is a directory, not a file"),
        (lambda d: (d / "binary").write_bytes(b"\xff\xfe\x00") and d / "binary", "is not UTF-8 text"),
        (lambda d: write(d / "file", "x") / "below", "LMS_JWT_SECRET_FILE: cannot read .*: Not a directory"),
    ],
    ids=["missing", "empty", "directory", "not-text", "unreadable-path"],
)
def test_a_bad_secret_file_is_a_clear_error(tmp_path: Path, setup: object, message: str) -> None:
    path = setup(tmp_path)  # type: ignore[operator]
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({"LMS_JWT_SECRET_FILE": str(path)})


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file: an unreadable file needs an unprivileged user")
def test_an_unreadable_secret_file_names_the_variable(tmp_path: Path) -> None:
    path = write(tmp_path / "secret", JWT_SECRET)
    path.chmod(0)
    with pytest.raises(ConfigError, match=r"LMS_DATABASE_URL_FILE: cannot read .*: Permission denied"):
        read_secret_file("LMS_DATABASE_URL_FILE", path)


def test_the_cli_answers_a_missing_secret_file_in_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nothing-here"
    result = subprocess.run(
        [CONSOLE_SCRIPT, "migrate"],
        env={**os.environ, "LMS_DATABASE_URL": "", "LMS_DATABASE_URL_FILE": str(missing)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr == f"lms-graphql: LMS_DATABASE_URL_FILE: no file at {missing}\n"


@pytest.mark.slow
def test_serve_runs_on_secrets_from_files_alone(database_urls: OwnedDatabaseUrls, tmp_path: Path) -> None:
    """The way compose runs a replica: every secret is a file, no secret is in the environment,
    and the replica holds the app login only (migrations ran elsewhere, with the owner's)."""
    secrets = {
        "LMS_APP_DATABASE_URL_FILE": write(tmp_path / "app_database_url", database_urls.app.render_as_string(False)),
        "LMS_JWT_SECRET_FILE": write(tmp_path / "jwt_secret", JWT_SECRET + "\n"),
    }
    env = {key: value for key, value in os.environ.items() if not key.startswith("LMS_")}
    env |= {key: str(path) for key, path in secrets.items()} | {"LMS_DATA_DIR": str(tmp_path / "data")}
    owner_file = write(tmp_path / "database_url", database_urls.owner.render_as_string(False))
    operator_env = env | {"LMS_DATABASE_URL_FILE": str(owner_file)}
    process, base = run_server(env, inherit_environment=False)
    try:
        wait_until_ready(process, base)  # ready: the app role's login from the file reached the database
        tenant = _create_tenant(operator_env)
        login = httpx.post(
            f"{base}/graphql",
            json={"query": 'mutation { login(email: "admin@files.example", password: "files-password-1") { token } }'},
            headers={"X-Tenant-ID": tenant},
            timeout=10,
        ).json()
        token = login["data"]["login"]["token"]
        # Signed with the secret from LMS_JWT_SECRET_FILE (kid "default").
        assert jwt.decode(token, JWT_SECRET, algorithms=["HS256"], options={"verify_aud": False})["sub"]
    finally:
        output = stop(process)
    assert "Traceback" not in output
    assert "app login only: migrated elsewhere" in output
    assert not (tmp_path / "data").exists()  # neither an embedded database nor a generated secret


def test_an_app_login_alone_neither_migrates_nor_serves_an_old_schema(
    database_urls: OwnedDatabaseUrls, owner_conn: psycopg.Connection, tmp_path: Path
) -> None:
    """Without the owner's login a replica cannot migrate: it refuses a schema that is behind, in
    one line, and `migrate` says it needs the owner login."""
    empty = unique_slug("empty").replace("-", "_")
    owner_conn.execute(f'CREATE DATABASE "{empty}"')
    try:
        app_url = database_urls.app.set(database=empty).render_as_string(False)
        env = {key: value for key, value in os.environ.items() if not key.startswith("LMS_")}
        env |= {"LMS_APP_DATABASE_URL": app_url, "LMS_DATA_DIR": str(tmp_path / "data")}
        serve = subprocess.run(
            [CONSOLE_SCRIPT, "serve", "--port", str(free_port())], env=env, capture_output=True, text=True, timeout=60
        )
        assert serve.returncode == 1
        head = head_revision(DEFAULT_APP_ROLE)
        assert serve.stderr.endswith(
            f"is at revision empty, not {head}: run `lms-graphql migrate` with the owner login (LMS_DATABASE_URL) first\n"
        ), serve.stderr
        assert len(serve.stderr.splitlines()) == 1
        migrate = subprocess.run([CONSOLE_SCRIPT, "migrate"], env=env, capture_output=True, text=True, timeout=60)
        assert (migrate.returncode, migrate.stderr) == (
            2,
            "lms-graphql: migrate needs the owner login: set LMS_DATABASE_URL (or LMS_DATABASE_URL_FILE)\n",
        )
        assert not (tmp_path / "data" / "pgdata").exists()  # no embedded database either
    finally:
        owner_conn.execute(f'DROP DATABASE "{empty}" WITH (FORCE)')


def _create_tenant(env: dict[str, str]) -> str:
    """Through the CLI, which reads the same files."""
    slug = unique_slug("files")
    subprocess.run(
        [CONSOLE_SCRIPT, "tenant", "create", slug, "--name", "Files"], env=env, check=True, capture_output=True
    )
    person = ("--email", "admin@files.example", "--name", "Admin", "--role", "admin", "--password", "files-password-1")
    subprocess.run(
        [CONSOLE_SCRIPT, "user", "create", "--tenant", slug, *person],
        env=env,
        check=True,
        capture_output=True,
    )
    return slug
