"""The console script: happy paths, each bad input (exit 2, nothing written), unreachable DB."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest

from lms_graphql.cli import main
from lms_graphql.config import DEFAULT_APP_ROLE
from lms_graphql.kit.homes import home_for
from lms_graphql.migrate import head_revision
from tests.support.database import OwnedDatabaseUrls, home_connection
from tests.support.people import unique_slug
from tests.support.servers import CONSOLE_SCRIPT


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse refuses before main's handlers run
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out.strip(), err.strip()


def count(owner_conn: psycopg.Connection, sql: str, *params: object) -> int:
    row = owner_conn.execute(sql, params).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.usefixtures("env_for_cli")
def test_migrate_twice_is_a_no_op(capsys: pytest.CaptureFixture[str]) -> None:
    for _ in range(2):
        code, _, err = run_cli(capsys, "migrate")
        assert code == 0
        assert f"is up to date (revision {head_revision(DEFAULT_APP_ROLE)})" in err


@pytest.mark.usefixtures("env_for_cli")
def test_tenant_and_user_create(capsys: pytest.CaptureFixture[str], owner_conn: psycopg.Connection) -> None:
    slug = unique_slug()
    code, out, err = run_cli(capsys, "tenant", "create", slug, "--name", "  Uni of Tests ", "--plan", "pro")
    assert (code, err) == (0, "")
    tenant_id = uuid.UUID(out)
    row = owner_conn.execute("SELECT slug, name, plan FROM tenants WHERE id = %s", (tenant_id,)).fetchone()
    assert row == (slug, "Uni of Tests", "pro")

    code, out, err = run_cli(
        capsys, "user", "create", "--tenant", slug, "--email", " Ada@Uni.Example ",
        "--name", "Ada Lovelace", "--role", "instructor", "--password", "correct horse",
    )  # fmt: skip
    assert (code, err) == (0, "")
    row = owner_conn.execute(
        "SELECT tenant_id, email, role, password_hash FROM users WHERE id = %s", (uuid.UUID(out),)
    ).fetchone()
    assert row is not None
    assert row[:3] == (tenant_id, "ada@uni.example", "instructor")
    assert row[3].startswith("$argon2id$v=19$m=19456,t=2,p=1$")


@pytest.mark.usefixtures("env_for_cli")
def test_tenant_deactivate_and_activate(capsys: pytest.CaptureFixture[str], owner_conn: psycopg.Connection) -> None:
    slug = unique_slug()
    assert run_cli(capsys, "tenant", "create", slug, "--name", "T")[0] == 0
    assert run_cli(capsys, "tenant", "deactivate", slug)[:2] == (0, f"tenant {slug} is now inactive")
    assert owner_conn.execute("SELECT is_active FROM tenants WHERE slug = %s", (slug,)).fetchone() == (False,)
    assert run_cli(capsys, "tenant", "activate", slug)[:2] == (0, f"tenant {slug} is now active")
    code, _, err = run_cli(capsys, "tenant", "deactivate", "no-such-tenant")
    assert (code, err) == (2, "lms-graphql: no tenant with slug 'no-such-tenant'")


@pytest.mark.usefixtures("env_for_cli")
@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("x", "invalid tenant slug"),
        ("Upper", "invalid tenant slug"),
        ("-lead", "invalid tenant slug"),
        ("trail-", "invalid tenant slug"),
        ("under_score", "invalid tenant slug"),
        ("a" * 64, "invalid tenant slug"),
        ("www", "is reserved"),
        ("status", "is reserved"),
    ],
)
def test_tenant_create_refuses_bad_slugs(
    capsys: pytest.CaptureFixture[str], owner_conn: psycopg.Connection, slug: str, message: str
) -> None:
    before = count(owner_conn, "SELECT count(*) FROM tenants")
    code, out, err = run_cli(capsys, "tenant", "create", "--name", "X", "--", slug)
    assert code == 2
    assert out == ""
    assert message in err
    assert len(err.splitlines()) == 1
    assert count(owner_conn, "SELECT count(*) FROM tenants") == before


@pytest.mark.usefixtures("env_for_cli")
def test_tenant_create_refuses_duplicates_bad_plans_and_blank_names(
    capsys: pytest.CaptureFixture[str], owner_conn: psycopg.Connection
) -> None:
    slug = unique_slug()
    assert run_cli(capsys, "tenant", "create", slug, "--name", "First")[0] == 0
    code, _, err = run_cli(capsys, "tenant", "create", slug, "--name", "Second")
    assert (code, err) == (2, f"lms-graphql: a tenant with slug {slug!r} already exists")
    code, _, err = run_cli(capsys, "tenant", "create", unique_slug(), "--name", "X", "--plan", "platinum")
    assert code == 2
    assert "invalid choice: 'platinum'" in err
    code, _, err = run_cli(capsys, "tenant", "create", unique_slug(), "--name", "   ")
    assert (code, err) == (2, "lms-graphql: tenant name must not be empty")
    assert count(owner_conn, "SELECT count(*) FROM tenants WHERE slug = %s", slug) == 1


@pytest.mark.usefixtures("env_for_cli")
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--tenant": "no-such-tenant"}, "no tenant with slug 'no-such-tenant'"),
        ({"--email": "not-an-email"}, "invalid email address"),
        ({"--name": " "}, "full name must not be empty"),
        ({"--password": "short"}, "password must be at least 8 characters"),
        ({"--role": "owner"}, "invalid choice: 'owner'"),
    ],
)
def test_user_create_refuses_bad_input(
    capsys: pytest.CaptureFixture[str], owner_conn: psycopg.Connection, change: dict[str, str], message: str
) -> None:
    slug = unique_slug()
    assert run_cli(capsys, "tenant", "create", slug, "--name", "T")[0] == 0
    args = {
        "--tenant": slug,
        "--email": "u@x.example",
        "--name": "U",
        "--role": "student",
        "--password": "p" * 12,
    }
    args.update(change)
    code, out, err = run_cli(capsys, "user", "create", *[part for pair in args.items() for part in pair])
    assert code == 2
    assert out == ""
    assert message in err
    assert count(owner_conn, "SELECT count(*) FROM users WHERE email = 'u@x.example'") == 0


@pytest.mark.usefixtures("env_for_cli")
def test_user_create_refuses_duplicate_email_and_full_tenant(
    capsys: pytest.CaptureFixture[str], owner_conn: psycopg.Connection
) -> None:
    slug = unique_slug()
    assert run_cli(capsys, "tenant", "create", slug, "--name", "T")[0] == 0
    owner_conn.execute("UPDATE tenants SET max_users = 2 WHERE slug = %s", (slug,))
    base = ["user", "create", "--tenant", slug, "--name", "U", "--role", "student", "--password", "p" * 12]
    assert run_cli(capsys, *base, "--email", "u@x.example")[0] == 0
    code, _, err = run_cli(capsys, *base, "--email", "U@X.example")
    assert code == 2
    assert "already exists" in err
    assert run_cli(capsys, *base, "--email", "second@x.example")[0] == 0
    code, _, err = run_cli(capsys, *base, "--email", "third@x.example")
    assert (code, err) == (2, f"lms-graphql: tenant {slug!r} has reached its limit of 2 users")
    tenant_users = count(
        owner_conn,
        "SELECT count(*) FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE t.slug = %s",
        slug,
    )
    assert tenant_users == 2


def test_unreachable_database_is_one_clear_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LMS_DATABASE_URL", "postgresql://lms:secret-pw@127.0.0.1:9/lms")
    monkeypatch.setenv("LMS_DATA_DIR", str(tmp_path))
    code, out, err = run_cli(capsys, "migrate")
    assert code == 1
    assert out == ""
    assert err.startswith("lms-graphql: cannot reach the database at lms@127.0.0.1:9/lms:")
    assert len(err.splitlines()) == 1
    assert "secret-pw" not in err


def test_unsupported_database_url_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LMS_DATABASE_URL", "mysql://root@localhost/lms")
    monkeypatch.setenv("LMS_DATA_DIR", str(tmp_path))
    code, _, err = run_cli(capsys, "migrate")
    assert code == 2
    assert "unsupported database URL scheme 'mysql'" in err


def test_demo_loads_once_and_prints_logins(
    env_for_cli: dict[str, str], owner_conn: psycopg.Connection, database_urls: OwnedDatabaseUrls
) -> None:
    environment = {**os.environ, **env_for_cli}
    first = subprocess.run(
        [CONSOLE_SCRIPT, "demo"], env=environment, capture_output=True, text=True, timeout=120, check=False
    )
    assert first.returncode == 0, first.stderr
    assert "Demo data loaded." in first.stdout
    assert "admin@mit.example (admin)" in first.stdout
    second = subprocess.run(
        [CONSOLE_SCRIPT, "demo"], env=environment, capture_output=True, text=True, timeout=120, check=False
    )
    assert second.returncode == 0, second.stderr
    assert "Demo data is already loaded." in second.stdout
    registered = owner_conn.execute(
        "SELECT slug, id, placement FROM tenants WHERE slug IN ('mit', 'stanford', 'acme', 'platform') ORDER BY slug"
    ).fetchall()
    # One demo tenant in each placement, each counted in its own home.
    assert [(slug, placement) for slug, _, placement in registered] == [
        ("acme", "pool"), ("mit", "silo"), ("platform", "pool"), ("stanford", "bridge")
    ]  # fmt: skip
    per_tenant = []
    for slug, tenant_id, placement in registered:
        with home_connection(database_urls.owner, home_for(tenant_id, placement, "main")) as conn:
            counted = conn.execute(
                """SELECT (SELECT count(*) FROM users WHERE tenant_id = %(t)s),
                          (SELECT count(*) FROM courses WHERE tenant_id = %(t)s),
                          (SELECT count(*) FROM lesson_progress WHERE tenant_id = %(t)s)""",
                {"t": tenant_id},
            ).fetchone()
        assert counted is not None
        per_tenant.append((slug, *counted))
    mit = per_tenant[1]
    assert mit[1:3] == (7, 3)
    assert mit[3] > 0
