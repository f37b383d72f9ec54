"""Offboarding a tenant: `tenant export` makes one archive that `tenant import` restores into a
platform without it (ids and objects preserved); `tenant purge`, after deactivation and a grace
period, leaves no row in any table with a tenant_id and no object under its prefix."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from lms_graphql.cli import main
from lms_graphql.kit.db import Database
from lms_graphql.placement.purge import TENANT_COLUMNS
from lms_graphql.storage import keys
from lms_graphql.tenancy.tenant import TenantConfig
from tests.support.builders import BuiltCourse, build_course, enroll
from tests.support.database import OwnedDatabaseUrls, libpq_url
from tests.support.people import PersonFactory, TenantFactory

PDF = b"%PDF-1.7\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 20 + b"%%EOF\n"


async def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """The command, in a thread of its own (it runs its own event loop)."""
    try:
        code = await asyncio.to_thread(main, list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out.strip(), err.strip()


def fingerprint(owner_url: str, tenant_id: uuid.UUID) -> dict[str, tuple[int, int]]:
    """Each table's count of the tenant's rows and an order-free hash of them, in every schema."""
    found = {}
    with psycopg.connect(owner_url) as conn:
        conn.execute("SELECT set_config('app.current_tenant_id', %s, false)", (str(tenant_id),))
        for schema, table in conn.execute(TENANT_COLUMNS).fetchall():
            if schema != "public":
                continue
            row = conn.execute(
                sql.SQL(
                    "SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)), 0) FROM {}.{} t WHERE tenant_id = %s"
                ).format(sql.Identifier(schema), sql.Identifier(table)),
                (tenant_id,),
            ).fetchone()
            assert row is not None
            found[table] = (int(row[0]), int(row[1]))
        registry = conn.execute("SELECT row_to_json(t)::text FROM tenants t WHERE id = %s", (tenant_id,)).fetchone()
        found["tenants"] = (1 if registry else 0, hash(registry[0]) if registry else 0)
    return found


async def populated(
    db: Database, make_tenant: TenantFactory, make_user: PersonFactory, placement: str
) -> tuple[TenantConfig, BuiltCourse]:
    tenant = await make_tenant(placement=placement)
    teacher = await make_user(tenant, "instructor")
    course = await build_course(db, tenant, teacher.id, modules=2, lessons=2, assessments=1)
    for _ in range(3):
        student = await make_user(tenant)
        await enroll(db, tenant, student.id, course.id)
    return tenant, course


@pytest.mark.parametrize("placement", ["pool", "silo"])
async def test_an_exported_tenant_is_restored_whole_into_another_platform(
    capsys: pytest.CaptureFixture[str],
    db: Database,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    env_for_cli: dict[str, str],
    database_urls: OwnedDatabaseUrls,
    owner_conn: psycopg.Connection,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    placement: str,
) -> None:
    tenant, course = await populated(db, make_tenant, make_user, placement)
    key = f"{keys.lesson_prefix(tenant.id, course.id, course.lesson_ids[0])}{uuid.uuid4()}.pdf"
    stored = Path(env_for_cli["LMS_DATA_DIR"]) / "objects" / key
    stored.parent.mkdir(parents=True)
    stored.write_bytes(PDF)
    archive = tmp_path / "tenant.lms.tar.gz"
    code, out, err = await run_cli(capsys, "tenant", "export", tenant.slug, "--to", str(archive))
    assert code == 0, err
    assert f"tenant {tenant.slug}" in out
    assert "1 objects" in out

    source_owner = libpq_url(database_urls.owner)
    if placement == "pool":
        before = fingerprint(source_owner, tenant.id)
    name = f"lms_import_{uuid.uuid4().hex[:8]}"
    owner_conn.execute(f'CREATE DATABASE "{name}"')
    target = database_urls.owner.set(database=name)
    try:
        monkeypatch.setenv("LMS_DATABASE_URL", target.render_as_string(hide_password=False))
        monkeypatch.setenv("LMS_DATA_DIR", str(tmp_path / "elsewhere"))
        code, out, err = await run_cli(capsys, "tenant", "import", str(archive))
        assert code == 0, err
        restored = fingerprint(libpq_url(target), tenant.id)
        assert restored["users"][0] == 4
        assert restored["enrollments"][0] == 3
        if placement == "pool":
            assert restored == before
        assert (tmp_path / "elsewhere" / "objects" / key).read_bytes() == PDF
        code, out, err = await run_cli(capsys, "tenant", "import", str(archive))
        assert code != 0
        assert "already" in err
    finally:
        owner_conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.mark.parametrize("placement", ["pool", "bridge", "silo"])
async def test_a_purged_tenant_leaves_nothing_behind(
    capsys: pytest.CaptureFixture[str],
    db: Database,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    env_for_cli: dict[str, str],
    database_urls: OwnedDatabaseUrls,
    placement: str,
) -> None:
    tenant, _ = await populated(db, make_tenant, make_user, placement)
    neighbour, _ = await populated(db, make_tenant, make_user, "pool")
    neighbour_before = fingerprint(libpq_url(database_urls.owner), neighbour.id)
    objects = Path(env_for_cli["LMS_DATA_DIR"]) / "objects" / str(tenant.id) / "branding"
    objects.mkdir(parents=True)
    (objects / "logo.png").write_bytes(b"png")

    code, _, err = await run_cli(capsys, "tenant", "purge", tenant.slug, "--confirm", tenant.slug)
    assert code != 0
    assert "active" in err
    assert (await run_cli(capsys, "tenant", "deactivate", tenant.slug))[0] == 0
    code, _, err = await run_cli(capsys, "tenant", "purge", tenant.slug, "--confirm", tenant.slug)
    assert code != 0
    assert "30 days" in err
    code, _, err = await run_cli(capsys, "tenant", "purge", tenant.slug, "--confirm", "other", "--grace-days", "0")
    assert code != 0

    code, out, err = await run_cli(
        capsys, "tenant", "purge", tenant.slug, "--confirm", tenant.slug, "--grace-days", "0"
    )
    assert code == 0, err
    assert "purged" in out
    assert "1 objects removed" in out
    left = fingerprint(libpq_url(database_urls.owner), tenant.id)
    assert all(count == 0 for count, _ in left.values()), left
    assert not objects.exists()
    assert fingerprint(libpq_url(database_urls.owner), neighbour.id) == neighbour_before
