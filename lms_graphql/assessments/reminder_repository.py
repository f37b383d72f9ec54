"""Who is due a reminder: active learners, enrolled (active) in a published course, with an assessment
due within the window that they have not submitted yet."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, exists, select
from sqlalchemy.dialects.postgresql import insert

from lms_graphql.kit.repository import TenantScopedRepository
from lms_graphql.models.tables import ASSESSMENTS, COURSES, ENROLLMENTS, REMINDERS, SUBMISSIONS, USERS


class ReminderRepository(TenantScopedRepository):
    async def claim_due(self, now: datetime, until: datetime) -> list[Row[Any]]:
        """Records (and returns: assessment_id, user_id, due_at) the reminders not sent yet; a
        reminder another worker claimed first is skipped (the unique key)."""
        submitted = exists().where(
            SUBMISSIONS.c.tenant_id == ASSESSMENTS.c.tenant_id,
            SUBMISSIONS.c.assessment_id == ASSESSMENTS.c.id,
            SUBMISSIONS.c.user_id == ENROLLMENTS.c.user_id,
            SUBMISSIONS.c.status != "in_progress",
        )
        due = (
            select(ASSESSMENTS.c.tenant_id, ASSESSMENTS.c.id, ENROLLMENTS.c.user_id, ASSESSMENTS.c.due_at)
            .join(
                COURSES, and_(COURSES.c.tenant_id == ASSESSMENTS.c.tenant_id, COURSES.c.id == ASSESSMENTS.c.course_id)
            )
            .join(
                ENROLLMENTS,
                and_(ENROLLMENTS.c.tenant_id == COURSES.c.tenant_id, ENROLLMENTS.c.course_id == COURSES.c.id),
            )
            .join(USERS, and_(USERS.c.tenant_id == ENROLLMENTS.c.tenant_id, USERS.c.id == ENROLLMENTS.c.user_id))
            .where(
                self.in_tenant(ASSESSMENTS),
                ASSESSMENTS.c.due_at > now,
                ASSESSMENTS.c.due_at <= until,
                COURSES.c.status == "published",
                ENROLLMENTS.c.status == "active",
                USERS.c.is_active,
                ~submitted,
            )
        )
        statement = (
            insert(REMINDERS)
            .from_select(["tenant_id", "assessment_id", "user_id", "due_at"], due)
            .on_conflict_do_nothing(index_elements=["tenant_id", "assessment_id", "user_id", "due_at"])
            .returning(REMINDERS.c.assessment_id, REMINDERS.c.user_id, REMINDERS.c.due_at)
        )
        return list((await self.session.execute(statement)).all())
