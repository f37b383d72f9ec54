"""SQL-level isolation as the app role: what PostgreSQL refuses, whatever the app code does."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import psycopg
import pytest
from psycopg import errors
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from lms_graphql import models
from lms_graphql.kit.db import Database
from lms_graphql.tenancy.tenant import TenantConfig
from tests.support.database import OwnedDatabaseUrls, libpq_url
from tests.support.people import TenantFactory


@dataclass(frozen=True)
class Seeded:
    tenant: TenantConfig
    user_id: uuid.UUID
    course_id: uuid.UUID


async def seed(db: Database, tenant: TenantConfig, *, slug: str = "intro", email: str = "ada@uni.example") -> Seeded:
    user_id, course_id, module_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with db.tenant_transaction(tenant.id) as session:
        session.add(models.User(id=user_id, tenant_id=tenant.id, email=email, full_name="Ada", role="instructor"))
        await session.flush()
        session.add(models.Course(id=course_id, tenant_id=tenant.id, instructor_id=user_id, title="Intro", slug=slug))
        await session.flush()
        session.add(models.Module(id=module_id, tenant_id=tenant.id, course_id=course_id, title="M1"))
    return Seeded(tenant, user_id, course_id)


@pytest.fixture
async def two_tenants(db: Database, make_tenant: TenantFactory) -> tuple[Seeded, Seeded]:
    # Identical slugs and emails in both: uniques are per tenant.
    a = await seed(db, await make_tenant())
    b = await seed(db, await make_tenant())
    return a, b


async def test_a_tenant_sees_only_its_own_rows(db: Database, two_tenants: tuple[Seeded, Seeded]) -> None:
    a, b = two_tenants
    async with db.tenant_transaction(a.tenant.id) as session:
        for table in models.TENANT_OWNED_TABLES:
            foreign = (
                await session.execute(
                    text(f"SELECT count(*) FROM {table} WHERE tenant_id <> :a"),
                    {"a": a.tenant.id},
                )
            ).scalar_one()
            assert foreign == 0, table
        visible = (await session.execute(text("SELECT id FROM courses"))).scalars().all()
        assert visible == [a.course_id]
        found = await session.get(models.Course, (b.tenant.id, b.course_id))
        assert found is None


def test_no_tenant_bound_reads_zero_rows_on_a_fresh_connection(
    database_urls: OwnedDatabaseUrls, two_tenants: tuple[Seeded, Seeded]
) -> None:
    with psycopg.connect(libpq_url(database_urls.app)) as conn:
        for table in ("users", "courses", "modules"):
            (count,) = conn.execute(f"SELECT count(*) FROM {table}").fetchone() or (None,)
            assert count == 0, table


def test_no_tenant_bound_reads_zero_rows_on_a_reused_connection(
    database_urls: OwnedDatabaseUrls, two_tenants: tuple[Seeded, Seeded]
) -> None:
    a, _ = two_tenants
    with psycopg.connect(libpq_url(database_urls.app)) as conn:
        with conn.transaction():
            conn.execute("SELECT set_config('app.current_tenant_id', %s, true)", (str(a.tenant.id),))
            (inside,) = conn.execute("SELECT count(*) FROM courses").fetchone() or (None,)
            assert inside == 1
        # After that transaction the setting reads '' (not NULL): NULLIF keeps it closed.
        (setting,) = conn.execute("SELECT current_setting('app.current_tenant_id', true)").fetchone() or (None,)
        assert setting == ""
        (after,) = conn.execute("SELECT count(*) FROM courses").fetchone() or (None,)
        assert after == 0


async def test_pooled_connections_do_not_keep_the_tenant(db: Database, two_tenants: tuple[Seeded, Seeded]) -> None:
    a, _ = two_tenants
    async with db.tenant_transaction(a.tenant.id) as session:
        assert (await session.execute(text("SELECT count(*) FROM courses"))).scalar_one() == 1
    for _ in range(3):
        async with db.engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM courses"))).scalar_one() == 0


async def test_platform_transaction_sees_no_tenant_rows(db: Database, two_tenants: tuple[Seeded, Seeded]) -> None:
    async with db.platform_transaction() as session:
        assert (await session.execute(text("SELECT count(*) FROM users"))).scalar_one() == 0


async def test_insert_with_another_tenants_id_is_refused(db: Database, two_tenants: tuple[Seeded, Seeded]) -> None:
    a, b = two_tenants
    with pytest.raises(DBAPIError) as caught:
        async with db.tenant_transaction(a.tenant.id) as session:
            session.add(models.User(tenant_id=b.tenant.id, email="mallory@x.example", full_name="M", role="admin"))
            await session.flush()
    assert isinstance(caught.value.orig, errors.InsufficientPrivilege)
    assert "row-level security" in str(caught.value.orig)


async def test_update_cannot_move_or_touch_another_tenants_rows(
    db: Database, two_tenants: tuple[Seeded, Seeded]
) -> None:
    a, b = two_tenants
    async with db.tenant_transaction(a.tenant.id) as session:
        touched = await session.execute(
            text("UPDATE courses SET title = 'pwned' WHERE tenant_id = :b"), {"b": b.tenant.id}
        )
        assert touched.rowcount == 0  # type: ignore[attr-defined]
        deleted = await session.execute(text("DELETE FROM modules WHERE tenant_id = :b"), {"b": b.tenant.id})
        assert deleted.rowcount == 0  # type: ignore[attr-defined]
    with pytest.raises(DBAPIError) as caught:
        async with db.tenant_transaction(a.tenant.id) as session:
            await session.execute(
                text("UPDATE courses SET tenant_id = :b WHERE id = :c"), {"b": b.tenant.id, "c": a.course_id}
            )
    assert isinstance(caught.value.orig, errors.InsufficientPrivilege)
    async with db.tenant_transaction(b.tenant.id) as session:
        titles = (await session.execute(text("SELECT title FROM courses"))).scalars().all()
    assert titles == ["Intro"]


async def test_composite_foreign_key_refuses_another_tenants_course(
    db: Database, two_tenants: tuple[Seeded, Seeded]
) -> None:
    a, b = two_tenants
    with pytest.raises(IntegrityError) as caught:
        async with db.tenant_transaction(a.tenant.id) as session:
            session.add(models.Module(tenant_id=a.tenant.id, course_id=b.course_id, title="smuggled"))
            await session.flush()
    assert isinstance(caught.value.orig, errors.ForeignKeyViolation)


async def test_progress_requires_an_enrollment_in_the_lessons_course(
    db: Database, two_tenants: tuple[Seeded, Seeded]
) -> None:
    a, _ = two_tenants
    module_id, lesson_id = uuid.uuid4(), uuid.uuid4()
    async with db.tenant_transaction(a.tenant.id) as session:
        session.add(models.Module(id=module_id, tenant_id=a.tenant.id, course_id=a.course_id, title="M2"))
        await session.flush()
        session.add(
            models.Lesson(
                id=lesson_id,
                tenant_id=a.tenant.id,
                course_id=a.course_id,
                module_id=module_id,
                title="L1",
                content_type="text",
            )
        )
    with pytest.raises(IntegrityError) as caught:
        async with db.tenant_transaction(a.tenant.id) as session:
            session.add(
                models.LessonProgress(
                    tenant_id=a.tenant.id, user_id=a.user_id, course_id=a.course_id, lesson_id=lesson_id
                )
            )
            await session.flush()
    assert isinstance(caught.value.orig, errors.ForeignKeyViolation)


@pytest.mark.parametrize(
    ("statement", "constraint"),
    [
        ("UPDATE enrollments SET progress_pct = 101", "progress_pct_range"),
        ("UPDATE courses SET status = 'secret', published_at = now()", "status_valid"),
        ("UPDATE users SET email = 'UPPER@x.example'", "email_normalized"),
        ("UPDATE courses SET max_enrollment = 0", "max_enrollment_positive"),
    ],
)
async def test_check_constraints_reject_impossible_values(
    db: Database, two_tenants: tuple[Seeded, Seeded], statement: str, constraint: str
) -> None:
    a, _ = two_tenants
    async with db.tenant_transaction(a.tenant.id) as session:
        session.add(models.Enrollment(tenant_id=a.tenant.id, user_id=a.user_id, course_id=a.course_id))
    with pytest.raises(IntegrityError) as caught:
        async with db.tenant_transaction(a.tenant.id) as session:
            await session.execute(text(statement))
    assert constraint in str(caught.value.orig)
