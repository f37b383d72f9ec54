"""Queries and mutations of assessments, submissions and certificates."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from lms_graphql.assessments import editing, service
from lms_graphql.assessments.types import (
    Assessment,
    AssessmentAttempt,
    AssessmentType,
    CertificateVerification,
    Submission,
    SubmissionStatus,
)
from lms_graphql.auth import policies
from lms_graphql.auth.permissions import Permission
from lms_graphql.context import Info
from lms_graphql.enrollments import certificates
from lms_graphql.errors import ErrorCode, LmsError
from lms_graphql.kit.connections import Connection, connection
from lms_graphql.kit.graphql import require_id
from lms_graphql.kit.pagination import decode_cursor, page_size
from lms_graphql.tenancy.features import CERTIFICATES, require_feature

MAX_CODE = 64


@strawberry.input(description="A new assessment of a course.")
class CreateAssessmentInput:
    course_id: strawberry.ID = strawberry.field(description="The course to add it to.")
    title: str = strawberry.field(description="The title, 1-500 characters after trimming.")
    assessment_type: AssessmentType = strawberry.field(description="What kind of assessment, and so how it is graded.")
    max_score: float | None = strawberry.field(
        default=100, description="The most points, 0.01-9999.99 (rounded to 2 decimals); null: 100."
    )
    passing_score: float | None = strawberry.field(
        default=60, description="The score needed to pass, 0 to maxScore; null: 60."
    )
    time_limit_min: int | None = strawberry.field(
        default=None,
        description="Minutes per attempt, 1-10 080 (a week): learners must call startAssessment first. Null: untimed.",
    )
    max_attempts: int | None = strawberry.field(
        default=1, description="Attempts per learner, 1-100; null: unlimited attempts."
    )
    due_at: datetime | None = strawberry.field(default=None, description="The due date; null: none.")
    accepts_late: bool | None = strawberry.field(
        default=True, description="False: submissions after dueAt are refused instead of marked late."
    )
    questions: JSON | None = strawberry.field(
        default=None,
        description="The questions: a JSON list of at most 200, validated on the way in (types single_choice, "
        "multiple_choice, true_false, short_text, essay; see the README's question model). Null: none.",
    )


@strawberry.input(description="What to change in an assessment; fields left out stay as they are.")
class UpdateAssessmentInput:
    title: str | None = strawberry.field(default=strawberry.UNSET, description="The new title; null is refused.")
    max_score: float | None = strawberry.field(
        default=strawberry.UNSET, description="The most points, 0.01-9999.99; null is refused."
    )
    passing_score: float | None = strawberry.field(
        default=strawberry.UNSET, description="The score needed to pass, 0 to maxScore; null is refused."
    )
    time_limit_min: int | None = strawberry.field(
        default=strawberry.UNSET, description="Minutes per attempt, 1-10 080; null: untimed."
    )
    max_attempts: int | None = strawberry.field(
        default=strawberry.UNSET, description="Attempts per learner, 1-100; null: unlimited."
    )
    due_at: datetime | None = strawberry.field(default=strawberry.UNSET, description="The due date; null: none.")
    accepts_late: bool | None = strawberry.field(
        default=strawberry.UNSET, description="False: submissions after dueAt are refused; null is refused."
    )
    questions: JSON | None = strawberry.field(
        default=strawberry.UNSET,
        description="The questions, validated as in createAssessment. Changing them (or the scores) once someone has "
        "attempted the assessment makes a new version; null is refused.",
    )


@strawberry.type(description="What regradeAssessment did.")
class Regrading:
    regraded: int = strawberry.field(description="How many submissions were scored again.")
    version: int = strawberry.field(description="The version they were scored against (the current one).")


@strawberry.type
class AssessmentQueries:
    @strawberry.field(
        description="An assessment's submissions (not attempts still in progress), newest first, a page at a time: "
        "for the course's instructor and admins, e.g. those awaiting a grade (status: SUBMITTED). Errors: "
        "UNAUTHENTICATED without a token; NOT_FOUND when the assessment is unknown or of a course you may not "
        "grade; BAD_USER_INPUT for `first` outside 0-100 or an invalid cursor."
    )
    async def assessment_submissions(
        self,
        info: Info,
        assessment_id: Annotated[strawberry.ID, strawberry.argument(description="The assessment's id.")],
        status: Annotated[
            SubmissionStatus | None,
            strawberry.argument(description="Only SUBMITTED (awaiting a grade) or GRADED ones; null: both."),
        ] = None,
        first: Annotated[int | None, strawberry.argument(description="How many, 0-100; null: 20.")] = 20,
        after: Annotated[
            str | None, strawberry.argument(description="The endCursor of the previous page; null: from the newest.")
        ] = None,
    ) -> Connection[Submission]:
        ctx = info.context
        viewer = ctx.require_viewer()
        key = require_id(assessment_id, "assessment")
        limit, cursor = page_size(first), decode_cursor(after) if after else None
        wanted = status.value if status is not None else None
        async with ctx.read() as session:
            rows = await service.submissions_page(session, ctx.tenant.id, viewer, key, wanted, cursor, limit + 1)
        return connection(rows, limit, Submission.from_row, "submitted_at")

    @strawberry.field(
        description="A submission: for its author, and for the course's instructor and admins. Errors: "
        "UNAUTHENTICATED without a token; NOT_FOUND when it is unknown, still in progress or not yours to see."
    )
    async def submission(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The submission's id.")]
    ) -> Submission | None:
        ctx = info.context
        viewer = ctx.require_viewer()
        key = require_id(id, "submission")
        async with ctx.read() as session:
            row = await service.visible_submission(session, ctx.tenant.id, viewer, key)
        return Submission.from_row(row)

    @strawberry.field(
        description="Public, no token needed: verify a certificate of this tenant by its code. Null when there is none."
    )
    async def verify_certificate(
        self,
        info: Info,
        code: Annotated[
            str, strawberry.argument(description="The certificate's verificationCode (at most 64 characters).")
        ],
    ) -> CertificateVerification | None:
        ctx = info.context
        require_feature(ctx.tenant, CERTIFICATES)
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
    @strawberry.mutation(
        description="The course's instructor or an admin adds an assessment. Errors: UNAUTHENTICATED without a "
        "token; NOT_FOUND when the course is unknown or hidden from you; FORBIDDEN for students and when you may not "
        "edit the course; BAD_USER_INPUT for an invalid title, score, time limit, attempt count or question (the "
        "message names the question)."
    )
    async def create_assessment(
        self,
        info: Info,
        input: Annotated[CreateAssessmentInput, strawberry.argument(description="The new assessment.")],
    ) -> Assessment:
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
        description="Start an attempt: the time limit counts from now. Required for timed assessments; calling it "
        "again returns the running attempt. An attempt whose time ran out counts as submitted blank. Errors: "
        "UNAUTHENTICATED without a token; NOT_FOUND when the assessment is unknown or its course hidden from you; "
        "FORBIDDEN when not enrolled (or dropped), and for a platform operator visiting another tenant; "
        "BAD_USER_INPUT when the course is not published or the due date passed and late submissions are refused; "
        "ATTEMPTS_EXHAUSTED when maxAttempts are used."
    )
    async def start_assessment(
        self,
        info: Info,
        assessment_id: Annotated[strawberry.ID, strawberry.argument(description="The assessment's id.")],
    ) -> AssessmentAttempt:
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
        description="Submit answers as the signed-in learner: the running attempt, or a new one. QUIZ and EXAM with "
        "full answer keys are graded at once; others wait for a grade by hand. Emits assessment.submitted (and "
        "assessment.graded when graded at once). Errors: "
        "UNAUTHENTICATED without a token; NOT_FOUND when the assessment is unknown or its course hidden from you; "
        "FORBIDDEN when not enrolled (or dropped), and for a platform operator visiting another tenant; "
        "BAD_USER_INPUT for answers that do not fit the questions, a course not published, a timed assessment not "
        "started or out of time, or a passed due date when late submissions are refused; ATTEMPTS_EXHAUSTED when "
        "maxAttempts are used; CONFLICT when the same attempt was submitted concurrently."
    )
    async def submit_assessment(
        self,
        info: Info,
        assessment_id: Annotated[strawberry.ID, strawberry.argument(description="The assessment's id.")],
        answers: Annotated[
            JSON,
            strawberry.argument(
                description="A JSON object from question id to answer: an option id, a list of option ids, a "
                "boolean or a text, by question type. Omitted questions count as blank."
            ),
        ],
        file_ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(
                description="Files to hand in with it (at most 10): your confirmed uploads for this assessment "
                "(requestSubmissionUpload, confirmSubmissionUpload) not submitted before."
            ),
        ] = None,
    ) -> Submission:
        ctx = info.context
        viewer = ctx.require(Permission.SUBMISSION_SUBMIT)
        key = require_id(assessment_id, "assessment")
        files = [require_id(file_id, "file") for file_id in file_ids or []]
        async with ctx.write() as session:
            expired = await service.close_expired_attempts(session, ctx.tenant, viewer, key)
        async with ctx.write() as session:
            submission = await service.submit(
                session, ctx.tenant, viewer, key, answers, just_expired=expired > 0, file_ids=files
            )
        return Submission.from_row(submission)

    @strawberry.mutation(
        description="The course's instructor or an admin grades (or regrades) a submission; every grade is kept. "
        "Emits assessment.graded and notifies the learner. Errors: UNAUTHENTICATED without a token; FORBIDDEN for "
        "students; NOT_FOUND when the submission is unknown, in progress or of a course you may not grade; "
        "BAD_USER_INPUT for a score outside 0 to maxScore or feedback over 20 000 characters."
    )
    async def grade_submission(
        self,
        info: Info,
        submission_id: Annotated[strawberry.ID, strawberry.argument(description="The submission's id.")],
        score: Annotated[
            float, strawberry.argument(description="Points, 0 to the assessment's maxScore (rounded to 2 decimals).")
        ],
        feedback: Annotated[
            str | None,
            strawberry.argument(description="A comment for the learner, at most 20 000 characters; null: none."),
        ] = None,
    ) -> Submission:
        ctx = info.context
        viewer = ctx.require_viewer()
        if not policies.may_grade_somewhere(viewer):
            raise LmsError(ErrorCode.FORBIDDEN, "your role does not allow grading")
        key = require_id(submission_id, "submission")
        async with ctx.write() as session:
            submission = await service.grade(session, ctx.tenant, viewer, key, score=score, feedback=feedback)
        return Submission.from_row(submission)

    @strawberry.mutation(
        description="The course's instructor or an admin changes an assessment. Changing its questions or scores "
        "once someone has attempted it makes a new version (the one before is kept; submissions keep the version "
        "they answered and their scores). Errors: UNAUTHENTICATED without a token; NOT_FOUND when it is unknown "
        "or its course hidden from you; FORBIDDEN when you may not edit the course; BAD_USER_INPUT for an invalid "
        "value."
    )
    async def update_assessment(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The assessment to change.")],
        input: Annotated[UpdateAssessmentInput, strawberry.argument(description="What to change.")],
    ) -> Assessment:
        ctx = info.context
        viewer = ctx.require_viewer()
        refused = [
            name
            for name in ("title", "max_score", "passing_score", "accepts_late", "questions")
            if getattr(input, name) is None
        ]
        if refused:
            raise LmsError(ErrorCode.BAD_USER_INPUT, f"{', '.join(refused)} may be left out, not set to null")

        def given(name: str) -> bool:
            return getattr(input, name) is not strawberry.UNSET

        def value(name: str) -> Any:
            return getattr(input, name) if given(name) else None

        changes = editing.AssessmentChanges(
            title=value("title"),
            max_score=value("max_score"),
            passing_score=value("passing_score"),
            time_limit_min=value("time_limit_min"),
            time_limit_set=given("time_limit_min"),
            max_attempts=value("max_attempts"),
            max_attempts_set=given("max_attempts"),
            due_at=value("due_at"),
            due_at_set=given("due_at"),
            accepts_late=value("accepts_late"),
            questions=value("questions"),
            questions_set=given("questions"),
        )
        key = require_id(id, "assessment")
        async with ctx.write() as session:
            assessment = await editing.update_assessment(session, ctx.tenant, viewer, key, changes)
        return Assessment.from_row(assessment)

    @strawberry.mutation(
        description="The course's instructor or an admin deletes an assessment nobody has attempted; true when "
        "deleted. Errors: UNAUTHENTICATED without a token; NOT_FOUND when it is unknown or its course hidden from "
        "you; FORBIDDEN when you may not edit the course; CONFLICT once it has submissions (grades are kept)."
    )
    async def delete_assessment(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The assessment to delete.")]
    ) -> bool:
        ctx = info.context
        viewer = ctx.require_viewer()
        key = require_id(id, "assessment")
        async with ctx.write() as session:
            await editing.delete_assessment(session, ctx.tenant, viewer, key)
        return True

    @strawberry.mutation(
        description="The course's instructor or an admin scores the submissions that answered `version` again, "
        "against the current questions, and moves them to the current version (each keeps its earlier grades; "
        "learners whose score changed are notified). For QUIZ and EXAM whose questions all have answer keys. "
        "Errors: UNAUTHENTICATED without a token; NOT_FOUND when it is unknown or its course hidden from you; "
        "FORBIDDEN when you may not edit the course; BAD_USER_INPUT for a version that does not exist or an "
        "assessment graded by hand."
    )
    async def regrade_assessment(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The assessment.")],
        version: Annotated[int, strawberry.argument(description="The version whose submissions to score again.")],
    ) -> Regrading:
        ctx = info.context
        viewer = ctx.require_viewer()
        key = require_id(id, "assessment")
        async with ctx.write() as session:
            count = await editing.regrade(session, ctx.tenant, viewer, key, version)
            current = await editing.current_version(session, ctx.tenant, key)
        return Regrading(regraded=count, version=current)
