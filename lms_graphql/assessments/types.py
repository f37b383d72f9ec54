"""GraphQL types of assessments, submissions and certificates."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from lms_graphql.assessments.questions import without_answer_keys
from lms_graphql.auth import policies
from lms_graphql.context import Info
from lms_graphql.courses.types import Course
from lms_graphql.users.graphql import User


@strawberry.enum(
    description="QUIZ and EXAM with answer keys for every question are graded on submission; ASSIGNMENT, "
    "and PEER_REVIEW (graded by the course's instructor for now), are graded by hand."
)
class AssessmentType(Enum):
    QUIZ = "quiz"
    EXAM = "exam"
    ASSIGNMENT = "assignment"
    PEER_REVIEW = "peer_review"


@strawberry.enum
class SubmissionStatus(Enum):
    SUBMITTED = "submitted"
    GRADED = "graded"


@strawberry.type
class Assessment:
    id: strawberry.ID
    title: str
    assessment_type: AssessmentType
    max_score: float
    passing_score: float
    time_limit_min: int | None
    max_attempts: int | None
    due_at: datetime | None
    key: strawberry.Private[uuid.UUID]
    course_id: strawberry.Private[uuid.UUID]
    raw_questions: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: Any) -> Assessment:
        return cls(
            id=strawberry.ID(str(row.id)),
            title=row.title,
            assessment_type=AssessmentType(row.assessment_type),
            max_score=float(row.max_score),
            passing_score=float(row.passing_score),
            time_limit_min=row.time_limit_min,
            max_attempts=row.max_attempts,
            due_at=row.due_at,
            key=row.id,
            course_id=row.course_id,
            raw_questions=row.questions,
        )

    @strawberry.field
    async def course(self, info: Info) -> Course:
        return Course.from_row(await info.context.loaders.course.load(self.course_id))

    @strawberry.field(description="Questions as authored. For a student, answer keys are removed.")
    async def questions(self, info: Info) -> JSON:
        viewer = info.context.viewer
        if viewer is not None:
            course = await info.context.loaders.course.load(self.course_id)
            if policies.may_edit_course(viewer, course.instructor_id):
                authored: JSON = self.raw_questions
                return authored
        public: JSON = without_answer_keys(self.raw_questions)
        return public

    @strawberry.field(description="The current user's submissions, newest first.")
    async def my_submissions(self, info: Info) -> list[Submission]:
        return [Submission.from_row(row) for row in await info.context.loaders.my_submissions.load(self.key)]


@strawberry.type
class Submission:
    id: strawberry.ID
    attempt_number: int
    answers: JSON
    score: float | None
    passed: bool | None
    feedback: str | None
    status: SubmissionStatus
    submitted_at: datetime
    graded_at: datetime | None
    started_at: datetime
    late: bool = strawberry.field(description="Submitted after the assessment's due date.")
    assessment_id: strawberry.Private[uuid.UUID]
    user_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: Any) -> Submission:
        return cls(
            id=strawberry.ID(str(row.id)),
            attempt_number=row.attempt_number,
            answers=row.answers,
            score=float(row.score) if row.score is not None else None,
            passed=row.passed,
            feedback=row.feedback,
            status=SubmissionStatus(row.status),
            submitted_at=row.submitted_at,
            graded_at=row.graded_at,
            started_at=row.started_at,
            late=row.is_late,
            assessment_id=row.assessment_id,
            user_id=row.user_id,
        )

    @strawberry.field
    async def assessment(self, info: Info) -> Assessment:
        return Assessment.from_row(await info.context.loaders.assessment.load(self.assessment_id))

    @strawberry.field
    async def user(self, info: Info) -> User:
        return User.from_row(await info.context.loaders.user.load(self.user_id))


@strawberry.type
class Certificate:
    id: strawberry.ID
    issued_at: datetime
    verification_code: str = strawberry.field(description="A public code that verifies the certificate.")
    course_id: strawberry.Private[uuid.UUID]
    user_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: Any) -> Certificate:
        return cls(
            id=strawberry.ID(str(row.id)),
            issued_at=row.issued_at,
            verification_code=row.verification_code,
            course_id=row.course_id,
            user_id=row.user_id,
        )

    @strawberry.field
    async def course(self, info: Info) -> Course:
        return Course.from_row(await info.context.loaders.course.load(self.course_id))

    @strawberry.field
    async def user(self, info: Info) -> User:
        return User.from_row(await info.context.loaders.user.load(self.user_id))


@strawberry.type(description="A started attempt of a timed assessment: submit before the deadline.")
class AssessmentAttempt:
    id: strawberry.ID
    attempt_number: int
    started_at: datetime
    deadline: datetime | None = strawberry.field(description="When the time limit runs out (null: untimed).")
    assessment_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def assessment(self, info: Info) -> Assessment:
        return Assessment.from_row(await info.context.loaders.assessment.load(self.assessment_id))


@strawberry.type(description="What a certificate's public verification reveals, and nothing more.")
class CertificateVerification:
    course_title: str
    learner_name: str
    tenant_name: str
    issued_at: datetime
