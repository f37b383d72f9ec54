"""GraphQL types of assessments, submissions and certificates."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.scalars import JSON

from lms_graphql.assessments.questions import questions_seen_by, without_answer_keys
from lms_graphql.context import Info
from lms_graphql.courses.types import Course
from lms_graphql.users.graphql import User

if TYPE_CHECKING:
    from lms_graphql.storage.types import StoredFile


@strawberry.enum(
    description="What kind of assessment it is, which decides how it is graded: QUIZ and EXAM with answer keys for "
    "every question are graded on submission; ASSIGNMENT and PEER_REVIEW are graded by hand."
)
class AssessmentType(Enum):
    _value_: str  # for mypy: @strawberry.enum unwraps each enum_value, so members hold the string
    QUIZ = strawberry.enum_value(
        "quiz", description="A quiz: graded on submission when it has questions and none is an essay."
    )
    EXAM = strawberry.enum_value(
        "exam", description="An exam: graded on submission when it has questions and none is an essay."
    )
    ASSIGNMENT = strawberry.enum_value(
        "assignment", description="Work graded by hand by the course's instructor or an admin."
    )
    PEER_REVIEW = strawberry.enum_value(
        "peer_review", description="Peer review: for now graded by hand by the course's instructor or an admin."
    )


@strawberry.enum(description="Whether a submitted attempt has been graded.")
class SubmissionStatus(Enum):
    _value_: str  # for mypy: @strawberry.enum unwraps each enum_value, so members hold the string
    SUBMITTED = strawberry.enum_value("submitted", description="Submitted, waiting to be graded by hand.")
    GRADED = strawberry.enum_value("graded", description="Graded: score and passed are set.")


@strawberry.type(
    description="A graded part of a course: quiz, exam, assignment or peer review. Visible with its course."
)
class Assessment:
    id: strawberry.ID = strawberry.field(description="Opaque id of the assessment.")
    title: str = strawberry.field(description="The assessment's title, 1-500 characters.")
    assessment_type: AssessmentType = strawberry.field(
        description="What kind of assessment it is, and how it is graded."
    )
    max_score: float = strawberry.field(description="The most points a submission can score, 0.01-9999.99.")
    passing_score: float = strawberry.field(description="The score a submission needs to pass, 0 to maxScore.")
    time_limit_min: int | None = strawberry.field(
        description="Minutes an attempt may take from startAssessment (1-10 080, then 30 seconds of grace); null: "
        "untimed."
    )
    max_attempts: int | None = strawberry.field(description="Attempts each learner may make, 1-100; null: unlimited.")
    due_at: datetime | None = strawberry.field(
        description="The due date (UTC): later submissions are marked late, or refused when the assessment does not "
        "accept late ones; null: none."
    )
    version: int = strawberry.field(
        description="The version of its questions and scoring: raised when they change after someone attempted it "
        "(updateAssessment); each submission names the version it answered."
    )
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
            version=row.version,
            key=row.id,
            course_id=row.course_id,
            raw_questions=row.questions,
        )

    @strawberry.field(description="The course it belongs to.")
    async def course(self, info: Info) -> Course:
        return Course.from_row(await info.context.loaders.course.load(self.course_id))

    @strawberry.field(
        description="The questions, a JSON list (see the README's question model). Answer keys (answer, answers, "
        "accepted, caseSensitive, explanation) are removed unless you may edit the course."
    )
    async def questions(self, info: Info) -> JSON:
        viewer = info.context.viewer
        if viewer is None:
            public: JSON = without_answer_keys(self.raw_questions)
            return public
        course = await info.context.loaders.course.load(self.course_id)
        seen: JSON = questions_seen_by(viewer, course.instructor_id, self.raw_questions)
        return seen

    @strawberry.field(description="The signed-in user's submitted attempts, newest first.")
    async def my_submissions(self, info: Info) -> list[Submission]:
        return [Submission.from_row(row) for row in await info.context.loaders.my_submissions.load(self.key)]


@strawberry.type(
    description="A submitted attempt at an assessment: visible to its author, and to the course's instructor and "
    "admins."
)
class Submission:
    id: strawberry.ID = strawberry.field(description="Opaque id of the submission.")
    attempt_number: int = strawberry.field(description="1 for the learner's first attempt, counting up without gaps.")
    answers: JSON = strawberry.field(description="The answers as submitted: a JSON object from question id to answer.")
    score: float | None = strawberry.field(
        description="Points scored, 0 to the assessment's maxScore (2 decimals); null until graded."
    )
    passed: bool | None = strawberry.field(
        description="Whether the score reached the passing score; null until graded."
    )
    feedback: str | None = strawberry.field(description="The grader's comment; null when there is none.")
    status: SubmissionStatus = strawberry.field(description="SUBMITTED (waiting for a grade) or GRADED.")
    submitted_at: datetime = strawberry.field(
        description="When it was submitted (UTC); for a timed attempt that ran out, its deadline."
    )
    graded_at: datetime | None = strawberry.field(description="When it was last graded; null until graded.")
    started_at: datetime = strawberry.field(
        description="When the attempt started: at startAssessment, or at submission when it was not started first."
    )
    late: bool = strawberry.field(description="Submitted after the assessment's due date.")
    assessment_version: int = strawberry.field(
        description="The version of the assessment's questions it answered (and is graded on)."
    )
    assessment_id: strawberry.Private[uuid.UUID]
    user_id: strawberry.Private[uuid.UUID]
    key: strawberry.Private[uuid.UUID]

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
            assessment_version=row.assessment_version,
            assessment_id=row.assessment_id,
            user_id=row.user_id,
            key=row.id,
        )

    @strawberry.field(description="The assessment it answers.")
    async def assessment(self, info: Info) -> Assessment:
        return Assessment.from_row(await info.context.loaders.assessment.load(self.assessment_id))

    @strawberry.field(description="The learner who submitted it.")
    async def user(self, info: Info) -> User:
        return User.from_row(await info.context.loaders.user.load(self.user_id))

    @strawberry.field(description="The files handed in with it (submitAssessment's fileIds), oldest first.")
    async def files(self, info: Info) -> list[Annotated[StoredFile, strawberry.lazy("lms_graphql.storage.types")]]:
        from lms_graphql.storage.types import StoredFile

        return [StoredFile.from_row(row) for row in await info.context.loaders.submission_files.load(self.key)]


@strawberry.type(
    description="Proof that a learner completed a course: every lesson completed and every assessment passed. "
    "Issued once per learner and course."
)
class Certificate:
    id: strawberry.ID = strawberry.field(description="Opaque id of the certificate.")
    issued_at: datetime = strawberry.field(description="When it was issued (UTC).")
    verification_code: str = strawberry.field(
        description="A public code (160 random bits) that verifies the certificate: anyone may check it with "
        "verifyCertificate."
    )
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

    @strawberry.field(description="The course completed.")
    async def course(self, info: Info) -> Course:
        return Course.from_row(await info.context.loaders.course.load(self.course_id))

    @strawberry.field(description="The learner who earned it.")
    async def user(self, info: Info) -> User:
        return User.from_row(await info.context.loaders.user.load(self.user_id))


@strawberry.type(description="A started attempt of an assessment: submit it with submitAssessment before the deadline.")
class AssessmentAttempt:
    id: strawberry.ID = strawberry.field(description="Opaque id of the attempt; its submission keeps this id.")
    attempt_number: int = strawberry.field(description="1 for the learner's first attempt, counting up without gaps.")
    started_at: datetime = strawberry.field(
        description="When the attempt started (UTC): the time limit counts from it."
    )
    deadline: datetime | None = strawberry.field(
        description="When the time limit runs out (30 seconds of grace follow); null: untimed."
    )
    assessment_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="The assessment being attempted.")
    async def assessment(self, info: Info) -> Assessment:
        return Assessment.from_row(await info.context.loaders.assessment.load(self.assessment_id))


@strawberry.type(description="What a certificate's public verification reveals, and nothing more.")
class CertificateVerification:
    course_title: str = strawberry.field(description="The title of the course completed.")
    learner_name: str = strawberry.field(description="The full name of the learner who earned it.")
    tenant_name: str = strawberry.field(description="The organisation that issued it.")
    issued_at: datetime = strawberry.field(description="When it was issued (UTC).")
