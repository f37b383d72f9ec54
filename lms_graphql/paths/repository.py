"""SQL for learning paths: course prerequisites, and the one rule (course_lock(), migration
0013) saying why a course is still locked for a learner."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select, text

from lms_graphql.kit.repository import TenantScopedRepository
from lms_graphql.models.tables import PREREQUISITES


class PathRepository(TenantScopedRepository):
    async def required_by(self, course_ids: Sequence[uuid.UUID]) -> list[Any]:
        """(course_id, required_course_id) of these courses, in the order they were set."""
        statement = (
            select(PREREQUISITES.c.course_id, PREREQUISITES.c.required_course_id)
            .where(self.in_tenant(PREREQUISITES), PREREQUISITES.c.course_id.in_(course_ids))
            .order_by(PREREQUISITES.c.course_id, PREREQUISITES.c.created_at, PREREQUISITES.c.required_course_id)
        )
        return list((await self.session.execute(statement)).all())

    async def replace(self, course_id: uuid.UUID, required: Sequence[uuid.UUID]) -> None:
        await self.session.execute(
            delete(PREREQUISITES).where(self.in_tenant(PREREQUISITES), PREREQUISITES.c.course_id == course_id)
        )
        if required:
            rows = [
                {"tenant_id": self.tenant_id, "course_id": course_id, "required_course_id": other} for other in required
            ]
            await self.session.execute(insert(PREREQUISITES), rows)

    async def serialise_changes(self) -> None:
        """Prerequisites change one transaction at a time per tenant: two changes checked side
        by side could each pass the cycle check and close a cycle together."""
        key = text("SELECT pg_advisory_xact_lock(hashtextextended('course_prerequisites:' || :tenant, 0))")
        await self.session.execute(key, {"tenant": str(self.tenant_id)})

    async def leads_to(self, starts: Sequence[uuid.UUID], target: uuid.UUID) -> bool:
        """Whether ``target`` is among ``starts`` or what they require, transitively: making
        ``target`` require them would close a cycle."""
        if target in starts:
            return True
        statement = text(
            """
            WITH RECURSIVE reach(course_id) AS (
                SELECT required_course_id FROM course_prerequisites
                WHERE tenant_id = :tenant AND course_id = ANY(:starts)
                UNION
                SELECT cp.required_course_id FROM course_prerequisites cp JOIN reach r ON cp.course_id = r.course_id
                WHERE cp.tenant_id = :tenant
            )
            SELECT EXISTS (SELECT 1 FROM reach WHERE course_id = :target)
            """
        )
        found = await self.session.execute(
            statement, {"tenant": self.tenant_id, "starts": list(starts), "target": target}
        )
        return bool(found.scalar_one())

    async def locks(self, course_ids: Sequence[uuid.UUID], user_id: uuid.UUID) -> dict[uuid.UUID, str | None]:
        """Why each course is locked for ``user_id`` (None: open)."""
        statement = text("SELECT id, course_lock(:tenant, id, :user) FROM unnest(CAST(:ids AS uuid[])) AS id")
        rows = await self.session.execute(
            statement, {"tenant": self.tenant_id, "user": user_id, "ids": list(course_ids)}
        )
        return {row[0]: row[1] for row in rows.all()}
