"""SQL for assessments, submissions and certificates (reads)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, select

from lms_graphql import models
from lms_graphql.kit.pagination import Keyset
from lms_graphql.kit.repository import TenantScopedRepository, newest_first
from lms_graphql.models.tables import ASSESSMENTS, SUBMISSIONS


class AssessmentRepository(TenantScopedRepository):
    async def by_ids(self, ids: Sequence[uuid.UUID]) -> list[Row[Any]]:
        statement = select(ASSESSMENTS).where(self.in_tenant(ASSESSMENTS), ASSESSMENTS.c.id.in_(ids))
        return list((await self.session.execute(statement)).all())

    async def of_courses(self, course_ids: Sequence[uuid.UUID]) -> list[Row[Any]]:
        statement = (
            select(ASSESSMENTS)
            .where(self.in_tenant(ASSESSMENTS), ASSESSMENTS.c.course_id.in_(course_ids))
            .order_by(
                ASSESSMENTS.c.course_id,
                ASSESSMENTS.c.due_at.asc().nulls_last(),
                ASSESSMENTS.c.created_at,
                ASSESSMENTS.c.id,
            )
        )
        return list((await self.session.execute(statement)).all())

    async def submissions_of(self, user_id: uuid.UUID, assessment_ids: Sequence[uuid.UUID]) -> list[Row[Any]]:
        """The user's submitted attempts, newest first."""
        statement = (
            select(SUBMISSIONS)
            .where(
                self.in_tenant(SUBMISSIONS),
                SUBMISSIONS.c.user_id == user_id,
                SUBMISSIONS.c.assessment_id.in_(assessment_ids),
                SUBMISSIONS.c.status != "in_progress",
            )
            .order_by(SUBMISSIONS.c.assessment_id, SUBMISSIONS.c.attempt_number.desc(), SUBMISSIONS.c.id)
        )
        return list((await self.session.execute(statement)).all())

    async def submission(self, submission_id: uuid.UUID) -> Row[Any] | None:
        statement = select(SUBMISSIONS).where(
            self.in_tenant(SUBMISSIONS),
            SUBMISSIONS.c.id == submission_id,
            SUBMISSIONS.c.status != "in_progress",
        )
        return (await self.session.execute(statement)).one_or_none()

    async def get(self, assessment_id: uuid.UUID) -> models.Assessment | None:
        return await self.session.get(models.Assessment, (self.tenant_id, assessment_id))

    async def attempts(self, user_id: uuid.UUID, assessment_id: uuid.UUID) -> list[models.Submission]:
        """All the user's attempts (in progress too), oldest first."""
        statement = (
            select(models.Submission)
            .where(
                self.in_tenant(models.Submission),
                models.Submission.user_id == user_id,
                models.Submission.assessment_id == assessment_id,
            )
            .order_by(models.Submission.attempt_number)
        )
        return list((await self.session.execute(statement)).scalars().all())

    async def lock_submission(self, submission_id: uuid.UUID) -> models.Submission | None:
        statement = (
            select(models.Submission)
            .where(self.in_tenant(models.Submission), models.Submission.id == submission_id)
            .with_for_update()
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def lock(self, assessment_id: uuid.UUID) -> models.Assessment | None:
        statement = (
            select(models.Assessment)
            .where(self.in_tenant(models.Assessment), models.Assessment.id == assessment_id)
            .with_for_update()
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def has_submissions(self, assessment_id: uuid.UUID) -> bool:
        """Any attempt, in progress too: its learner answers the questions as they are."""
        statement = select(models.Submission.id).where(
            self.in_tenant(models.Submission), models.Submission.assessment_id == assessment_id
        )
        return (await self.session.execute(statement.limit(1))).first() is not None

    async def version(self, assessment_id: uuid.UUID, version: int) -> models.AssessmentVersion | None:
        """An earlier version's questions and scoring (the current one is the assessment's own)."""
        statement = select(models.AssessmentVersion).where(
            self.in_tenant(models.AssessmentVersion),
            models.AssessmentVersion.assessment_id == assessment_id,
            models.AssessmentVersion.version == version,
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def answered(self, assessment_id: uuid.UUID, version: int) -> list[models.Submission]:
        """The submitted (or graded) attempts that answered ``version``, by learner."""
        statement = (
            select(models.Submission)
            .where(
                self.in_tenant(models.Submission),
                models.Submission.assessment_id == assessment_id,
                models.Submission.assessment_version == version,
                models.Submission.status != "in_progress",
            )
            .order_by(models.Submission.user_id, models.Submission.attempt_number)
        )
        return list((await self.session.execute(statement)).scalars().all())

    async def submissions_page(
        self, assessment_id: uuid.UUID, status: str | None, after: Keyset | None, limit: int
    ) -> list[Row[Any]]:
        """Submitted attempts (or those of ``status``), newest first."""
        statement = select(SUBMISSIONS).where(
            self.in_tenant(SUBMISSIONS),
            SUBMISSIONS.c.assessment_id == assessment_id,
            SUBMISSIONS.c.status == status if status is not None else SUBMISSIONS.c.status != "in_progress",
        )
        page = newest_first(statement, SUBMISSIONS.c.submitted_at, SUBMISSIONS.c.id, after, limit)
        return list((await self.session.execute(page)).all())

    async def share(self, assessment_id: uuid.UUID) -> models.Assessment | None:
        """The assessment, share-locked: attempts hold it as it is while updateAssessment and
        deleteAssessment (which lock it for update) wait, and the other way round."""
        statement = (
            select(models.Assessment)
            .where(self.in_tenant(models.Assessment), models.Assessment.id == assessment_id)
            .with_for_update(read=True)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()
