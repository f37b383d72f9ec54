"""Queries and mutations of assessments, submissions and certificates."""

from __future__ import annotations

from datetime import datetime, timedelta

import strawberry
from strawberry.scalars import JSON

from lms_graphql.assessments import service
from lms_graphql.assessments.types import (
    Assessment,
    AssessmentAttempt,
    AssessmentType,
    CertificateVerification,
    Submission,
)
from lms_graphql.auth import policies
from lms_graphql.auth.permissions import Permission
from lms_graphql.context import Info
from lms_graphql.enrollments import certificates
from lms_graphql.errors import ErrorCode, LmsError
from lms_graphql.kit.graphql import require_id

MAX_CODE = 64


@strawberry.input
class CreateAssessmentInput:
    course_id: strawberry.ID
    title: str
    assessment_type: AssessmentType
    max_score: float | None = 100
    passing_score: float | None = 60
    time_limit_min: int | None = None
    max_attempts: int | None = strawberry.field(default=1, description="null: unlimited attempts.")
    due_at: datetime | None = None
    accepts_late: bool | None = strawberry.field(
        default=True, description="false: submissions after dueAt are refused instead of marked late."
    )
    questions: JSON | None = strawberry.field(
        default=None, description="The question model: see the README (assessments). Omitted: none."
    )


@strawberry.type
class AssessmentQueries:
    @strawberry.field(description="A submission: its author's, or for the course's instructor and admins.")
    async def submission(self, info: Info, id: strawberry.ID) -> Submission | None:
        ctx = info.context
        viewer = ctx.require_viewer()
        key = require_id(id, "submission")
        async with ctx.read() as session:
            row = await service.visible_submission(session, ctx.tenant.id, viewer, key)
        return Submission.from_row(row)

    @strawberry.field(description="Public: verify a certificate of this tenant by its code. Null when there is none.")
    async def verify_certificate(self, info: Info, code: str) -> CertificateVerification | None:
        ctx = info.context
        if not code or len(code) > MAX_CODE:
            return None
        async with ctx.read() as session:
            row = await certificates.verify(session, ctx.tenant.id, code)
        if row is None:
            return None
        return CertificateVerification(
            course_title=row.course_title,
            learner_name=row.full_name,
            tenant_name=ctx.tenant.name,
            issued_at=row.issued_at,
        )


@strawberry.type
class AssessmentMutations:
    @strawberry.mutation(description="The course's instructor or an admin adds an assessment.")
    async def create_assessment(self, info: Info, input: CreateAssessmentInput) -> Assessment:
        ctx = info.context
        viewer = ctx.require_viewer()
        if not policies.may_author_assessments(viewer):
            raise LmsError(ErrorCode.FORBIDDEN, "your role does not allow this")
        spec = service.NewAssessment(
            course_id=require_id(input.course_id, "course"),
            title=input.title,
            assessment_type=input.assessment_type.value,
            max_score=100 if input.max_score is None else input.max_score,
            passing_score=60 if input.passing_score is None else input.passing_score,
            time_limit_min=input.time_limit_min,
            max_attempts=input.max_attempts,
            due_at=input.due_at,
            accepts_late=input.accepts_late is not False,
            questions=[] if input.questions is None else input.questions,
        )
        async with ctx.write() as session:
            assessment = await service.create_assessment(session, ctx.tenant, viewer, spec)
        return Assessment.from_row(assessment)

    @strawberry.mutation(
        description="Start an attempt: the time limit counts from now. Required for timed assessments; "
        "calling it again returns the running attempt."
    )
    async def start_assessment(self, info: Info, assessment_id: strawberry.ID) -> AssessmentAttempt:
        ctx = info.context
        viewer = ctx.require(Permission.SUBMISSION_SUBMIT)
        key = require_id(assessment_id, "assessment")
        async with ctx.write() as session:
            await service.close_expired_attempts(session, ctx.tenant, viewer, key)
        async with ctx.write() as session:
            attempt = await service.start_attempt(session, ctx.tenant, viewer, key)
        limit = (await ctx.loaders.assessment.load(key)).time_limit_min
        return AssessmentAttempt(
            id=strawberry.ID(str(attempt.id)),
            attempt_number=attempt.attempt_number,
            started_at=attempt.started_at,
            deadline=attempt.started_at + timedelta(minutes=limit) if limit else None,
            assessment_id=attempt.assessment_id,
        )

    @strawberry.mutation(
        description="Submit answers (question id -> answer). QUIZ and EXAM with full answer keys are graded at once."
    )
    async def submit_assessment(self, info: Info, assessment_id: strawberry.ID, answers: JSON) -> Submission:
        ctx = info.context
        viewer = ctx.require(Permission.SUBMISSION_SUBMIT)
        key = require_id(assessment_id, "assessment")
        async with ctx.write() as session:
            expired = await service.close_expired_attempts(session, ctx.tenant, viewer, key)
        async with ctx.write() as session:
            submission = await service.submit(session, ctx.tenant, viewer, key, answers, just_expired=expired > 0)
        return Submission.from_row(submission)

    @strawberry.mutation(description="The course's instructor or an admin grades (or regrades) a submission.")
    async def grade_submission(
        self, info: Info, submission_id: strawberry.ID, score: float, feedback: str | None = None
    ) -> Submission:
        ctx = info.context
        viewer = ctx.require_viewer()
        if not policies.may_grade_somewhere(viewer):
            raise LmsError(ErrorCode.FORBIDDEN, "your role does not allow grading")
        key = require_id(submission_id, "submission")
        async with ctx.write() as session:
            submission = await service.grade(session, ctx.tenant, viewer, key, score=score, feedback=feedback)
        return Submission.from_row(submission)
