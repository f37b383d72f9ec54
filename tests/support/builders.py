"""Test data built straight through the models (fast), for tests about something else."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from lms_graphql import models
from lms_graphql.kit.db import Database
from lms_graphql.tenancy.tenant import TenantConfig


@dataclass
class BuiltCourse:
    id: uuid.UUID
    slug: str
    module_ids: list[uuid.UUID] = field(default_factory=list)
    lesson_ids: list[uuid.UUID] = field(default_factory=list)  # reading order
    assessment_ids: list[uuid.UUID] = field(default_factory=list)


async def build_course(
    db: Database,
    tenant: TenantConfig,
    instructor_id: uuid.UUID,
    *,
    title: str = "Course",
    status: str = "published",
    modules: int = 2,
    lessons: int = 3,
    max_enrollment: int | None = None,
    created_at: datetime | None = None,
    description: str | None = None,
    assessments: int = 0,
) -> BuiltCourse:
    built = BuiltCourse(uuid.uuid4(), f"c-{uuid.uuid4().hex[:12]}")
    async with db.tenant_transaction(tenant.id) as session:
        course = models.Course(
            id=built.id,
            tenant_id=tenant.id,
            instructor_id=instructor_id,
            title=title,
            slug=built.slug,
            description=description,
            status=status,
            published_at=None if status == "draft" else datetime.now(UTC),
            max_enrollment=max_enrollment,
        )
        if created_at is not None:
            course.created_at = created_at
        session.add(course)
        await session.flush()
        for m in range(modules):
            module = models.Module(id=uuid.uuid4(), tenant_id=tenant.id, course_id=built.id, title=f"M{m}", position=m)
            session.add(module)
            await session.flush()
            built.module_ids.append(module.id)
            for n in range(lessons):
                lesson = models.Lesson(
                    id=uuid.uuid4(),
                    tenant_id=tenant.id,
                    course_id=built.id,
                    module_id=module.id,
                    title=f"L{m}.{n}",
                    content_type="video",
                    content_ref=f"https://cdn.example/{m}/{n}",
                    position=n,
                )
                session.add(lesson)
                built.lesson_ids.append(lesson.id)
        for a in range(assessments):
            assessment = models.Assessment(
                id=uuid.uuid4(),
                tenant_id=tenant.id,
                course_id=built.id,
                title=f"Quiz {a}",
                assessment_type="quiz",
                max_score=Decimal(10),
                passing_score=Decimal(6),
                due_at=datetime.now(UTC) + timedelta(days=7 + a),
                questions=[
                    {
                        "id": "q1",
                        "type": "true_false",
                        "prompt": "RLS is forced?",
                        "points": 10,
                        "answer": True,
                    }
                ],
            )
            session.add(assessment)
            built.assessment_ids.append(assessment.id)
    return built


async def enroll(db: Database, tenant: TenantConfig, user_id: uuid.UUID, course_id: uuid.UUID) -> None:
    async with db.tenant_transaction(tenant.id) as session:
        session.add(models.Enrollment(tenant_id=tenant.id, user_id=user_id, course_id=course_id))


@contextmanager
def count_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every SQL statement the engine sends while the block runs."""
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
