"""SQL for certificates and the completion rule."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Row, and_, exists, func, select
from sqlalchemy.dialects.postgresql import insert

from lms_graphql.kit.repository import TenantScopedRepository
from lms_graphql.models.tables import ASSESSMENTS, CERTIFICATES, COURSES, SUBMISSIONS, USERS


class CertificateRepository(TenantScopedRepository):
    async def assessments_not_passed(self, user_id: uuid.UUID, course_id: uuid.UUID) -> int:
        """Assessments of the course that no attempt of the user has passed."""
        passed = exists().where(
            SUBMISSIONS.c.tenant_id == ASSESSMENTS.c.tenant_id,
            SUBMISSIONS.c.assessment_id == ASSESSMENTS.c.id,
            SUBMISSIONS.c.user_id == user_id,
            SUBMISSIONS.c.passed.is_(True),
        )
        statement = select(func.count()).where(
            self.in_tenant(ASSESSMENTS), ASSESSMENTS.c.course_id == course_id, ~passed
        )
        return int((await self.session.execute(statement)).scalar_one())

    async def issue(self, user_id: uuid.UUID, course_id: uuid.UUID, code: str) -> Row[Any] | None:
        """The new certificate, or None when the user already holds one for the course."""
        statement = (
            insert(CERTIFICATES)
            .values(tenant_id=self.tenant_id, user_id=user_id, course_id=course_id, verification_code=code)
            .on_conflict_do_nothing(index_elements=["tenant_id", "user_id", "course_id"])
            .returning(*CERTIFICATES.c)
        )
        return (await self.session.execute(statement)).one_or_none()

    async def verify(self, code: str) -> Row[Any] | None:
        statement = (
            select(COURSES.c.title.label("course_title"), USERS.c.full_name, CERTIFICATES.c.issued_at)
            .select_from(CERTIFICATES)
            .join(
                COURSES, and_(COURSES.c.tenant_id == CERTIFICATES.c.tenant_id, COURSES.c.id == CERTIFICATES.c.course_id)
            )
            .join(USERS, and_(USERS.c.tenant_id == CERTIFICATES.c.tenant_id, USERS.c.id == CERTIFICATES.c.user_id))
            .where(self.in_tenant(CERTIFICATES), CERTIFICATES.c.verification_code == code)
        )
        result = await self.session.execute(statement)
        return result.one_or_none()  # type: ignore[return-value]
