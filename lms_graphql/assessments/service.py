"""Assessments: authoring, attempts that hold under races, grading, and what follows."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import null
from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql import models
from lms_graphql.assessments import questions as question_model
from lms_graphql.assessments.repository import AssessmentRepository
from lms_graphql.assessments.submission_files import attach_to_submission
from lms_graphql.auth import policies
from lms_graphql.auth.viewer import Viewer
from lms_graphql.courses import access, validation
from lms_graphql.courses.repository import CourseRepository
from lms_graphql.enrollments.certificates import issue_if_complete
from lms_graphql.enrollments.repository import EnrollmentRepository
from lms_graphql.errors import ErrorCode, LmsError, bad_input, not_found
from lms_graphql.events.publish import Notice, record_event
from lms_graphql.kit.pagination import Keyset
from lms_graphql.kit.repository import insert_or_conflict
from lms_graphql.tenancy.features import PEER_REVIEW, require_feature
from lms_graphql.tenancy.tenant import TenantConfig

ASSESSMENT_TYPES = ("quiz", "exam", "assignment", "peer_review")
AUTO_GRADED_TYPES = ("quiz", "exam")
MAX_SCORE = Decimal("9999.99")
MAX_TIME_LIMIT_MIN = 7 * 24 * 60
MAX_ATTEMPTS = 100
MAX_FEEDBACK = 20_000
# Network and clock slack granted after a timed attempt's limit.
TIME_LIMIT_GRACE = timedelta(seconds=30)


@dataclass(frozen=True)
class NewAssessment:
    course_id: uuid.UUID
    title: str
    assessment_type: str
    max_score: float
    passing_score: float
    time_limit_min: int | None
    max_attempts: int | None
    due_at: datetime | None
    accepts_late: bool
    questions: Any


def checked_score(value: float, what: str, ceiling: Decimal) -> Decimal:
    if not math.isfinite(value):
        raise bad_input(f"{what} must be a number")
    # Far out of range is refused before rounding: quantizing a number of more digits than the
    # decimal context holds (about 1e26 at two decimals) raises instead of rounding.
    if not -1 <= value <= float(ceiling) + 1:
        raise bad_input(f"{what} must be between 0 and {ceiling}")
    amount = Decimal(str(value)).quantize(Decimal("0.01"))
    if not Decimal(0) <= amount <= ceiling:
        raise bad_input(f"{what} must be between 0 and {ceiling}")
    return amount


async def create_assessment(
    session: AsyncSession, tenant: TenantConfig, viewer: Viewer, spec: NewAssessment
) -> models.Assessment:
    course = await CourseRepository(session, tenant.id).lock(spec.course_id)
    if course is None or not access.can_see(viewer, course):
        raise not_found("course not found")
    access.require_edit(viewer, course)
    if spec.assessment_type not in ASSESSMENT_TYPES:
        raise bad_input(f"assessmentType must be one of {', '.join(ASSESSMENT_TYPES)}")
    if spec.assessment_type == "peer_review":
        require_feature(tenant, PEER_REVIEW)
    max_score = checked_score(spec.max_score, "maxScore", MAX_SCORE)
    if max_score == 0:
        raise bad_input("maxScore must be above 0")
    passing = checked_score(spec.passing_score, "passingScore", max_score)
    if spec.time_limit_min is not None and not 1 <= spec.time_limit_min <= MAX_TIME_LIMIT_MIN:
        raise bad_input(f"timeLimitMin must be between 1 and {MAX_TIME_LIMIT_MIN}")
    if spec.max_attempts is not None and not 1 <= spec.max_attempts <= MAX_ATTEMPTS:
        raise bad_input(f"maxAttempts must be between 1 and {MAX_ATTEMPTS}, or null for unlimited")
    assessment = models.Assessment(
        id=uuid.uuid4(),
        tenant_id=tenant.id,
        course_id=course.id,
        title=validation.title(spec.title),
        assessment_type=spec.assessment_type,
        max_score=max_score,
        passing_score=passing,
        time_limit_min=spec.time_limit_min,
        # An explicit NULL (unlimited): a plain None would let the column default (1) apply.
        max_attempts=spec.max_attempts if spec.max_attempts is not None else null(),
        due_at=spec.due_at,
        accepts_late=spec.accepts_late,
        questions=question_model.validate_questions(spec.questions),
    )
    await insert_or_conflict(session, assessment, {})
    return assessment


@dataclass
class _Attempting:
    assessment: models.Assessment
    course: Any
    enrollment: models.Enrollment
    attempts: list[models.Submission]


def _deadline(assessment: models.Assessment, attempt: models.Submission) -> datetime | None:
    if assessment.time_limit_min is None:
        return None
    return attempt.started_at + timedelta(minutes=assessment.time_limit_min) + TIME_LIMIT_GRACE


async def _attempting(
    session: AsyncSession, tenant: TenantConfig, viewer: Viewer, assessment_id: uuid.UUID
) -> _Attempting:
    access.require_member(viewer, "take assessments")
    repo = AssessmentRepository(session, tenant.id)
    # Share-locked first (then the enrollment: regrading takes them in that order too).
    assessment = await repo.share(assessment_id)
    if assessment is None:
        raise not_found("assessment not found")
    course = (await CourseRepository(session, tenant.id).by_ids([assessment.course_id]))[0]
    # The enrollment lock serialises this learner's attempts: numbers cannot collide or skip.
    enrollment = await EnrollmentRepository(session, tenant.id).lock(viewer.id, course.id)
    if enrollment is None or enrollment.status == "dropped":
        if not access.can_see(viewer, course):
            raise not_found("assessment not found")
        raise LmsError(ErrorCode.FORBIDDEN, "enroll in the course before taking its assessments")
    if course.status != "published":
        raise bad_input("this course is not open: its assessments cannot be taken")
    if assessment.assessment_type == "peer_review":
        require_feature(tenant, PEER_REVIEW)
    return _Attempting(assessment, course, enrollment, await repo.attempts(viewer.id, assessment.id))


def _check_attempt_allowed(state: _Attempting, now: datetime) -> int:
    """The next attempt's number, if one may be made now."""
    assessment = state.assessment
    if assessment.max_attempts is not None and len(state.attempts) >= assessment.max_attempts:
        raise LmsError(
            ErrorCode.ATTEMPTS_EXHAUSTED, f"all {assessment.max_attempts} attempts of this assessment are used"
        )
    if assessment.due_at is not None and now > assessment.due_at and not assessment.accepts_late:
        raise bad_input("the due date of this assessment has passed")
    return len(state.attempts) + 1


async def _close_expired(session: AsyncSession, state: _Attempting, now: datetime) -> int:
    """A timed attempt whose clock ran out counts as submitted blank."""
    closed = 0
    for attempt in state.attempts:
        deadline = _deadline(state.assessment, attempt)
        if attempt.status == "in_progress" and deadline is not None and now > deadline:
            await _finish(session, state, attempt, {}, deadline)
            closed += 1
    return closed


async def close_expired_attempts(
    session: AsyncSession, tenant: TenantConfig, viewer: Viewer, assessment_id: uuid.UUID
) -> int:
    """Close the viewer's timed-out attempts. Run in its own savepoint before starting or
    submitting, so the closing stands even when what follows is refused."""
    state = await _attempting(session, tenant, viewer, assessment_id)
    return await _close_expired(session, state, datetime.now(UTC))


async def start_attempt(
    session: AsyncSession, tenant: TenantConfig, viewer: Viewer, assessment_id: uuid.UUID
) -> models.Submission:
    """Start the clock of a (timed) attempt; starting again returns the running attempt."""
    now = datetime.now(UTC)
    state = await _attempting(session, tenant, viewer, assessment_id)
    await _close_expired(session, state, now)
    for attempt in state.attempts:
        if attempt.status == "in_progress":
            return attempt
    attempt = models.Submission(
        id=uuid.uuid4(),
        tenant_id=tenant.id,
        assessment_id=state.assessment.id,
        user_id=viewer.id,
        attempt_number=_check_attempt_allowed(state, now),
        status="in_progress",
        started_at=now,
    )
    await insert_or_conflict(session, attempt, {})
    return attempt


async def submit(
    session: AsyncSession,
    tenant: TenantConfig,
    viewer: Viewer,
    assessment_id: uuid.UUID,
    answers: Any,
    *,
    just_expired: bool = False,
    file_ids: Sequence[uuid.UUID] = (),
) -> models.Submission:
    """``file_ids``: the learner's confirmed uploads for this assessment (storage/service.py)
    that the submission carries."""
    now = datetime.now(UTC)
    state = await _attempting(session, tenant, viewer, assessment_id)
    checked = question_model.validate_answers(state.assessment.questions, answers)
    if just_expired or await _close_expired(session, state, now):
        raise bad_input(f"the time limit of {state.assessment.time_limit_min} minutes for this attempt has passed")
    running = next((a for a in state.attempts if a.status == "in_progress"), None)
    if running is not None:
        if state.assessment.due_at is not None and now > state.assessment.due_at and not state.assessment.accepts_late:
            raise bad_input("the due date of this assessment has passed")
        attempt = running
    else:
        if state.assessment.time_limit_min is not None:
            raise bad_input("this assessment is timed: call startAssessment to start the clock first")
        attempt = models.Submission(
            id=uuid.uuid4(),
            tenant_id=tenant.id,
            assessment_id=state.assessment.id,
            user_id=viewer.id,
            attempt_number=_check_attempt_allowed(state, now),
            status="in_progress",
            started_at=now,
        )
        await insert_or_conflict(
            session,
            attempt,
            {"uq_submissions_tenant_id_assessment_id_user_id_attempt_number": "this attempt was submitted already"},
        )
    await attach_to_submission(session, tenant.id, viewer, state.assessment.id, attempt.id, file_ids)
    return await _finish(session, state, attempt, checked, now)


async def _finish(
    session: AsyncSession, state: _Attempting, attempt: models.Submission, answers: dict[str, Any], at: datetime
) -> models.Submission:
    assessment, course = state.assessment, state.course
    attempt.answers = answers
    attempt.assessment_version = assessment.version  # the questions it answered
    attempt.submitted_at = at
    attempt.is_late = assessment.due_at is not None and at > assessment.due_at
    attempt.status = "submitted"
    auto = assessment.assessment_type in AUTO_GRADED_TYPES and question_model.auto_gradable(assessment.questions)
    if auto:
        attempt.score = question_model.grade(assessment.questions, answers, assessment.max_score)
        attempt.passed = attempt.score >= assessment.passing_score
        attempt.status = "graded"
        attempt.graded_at = at
    await session.flush()
    await record_event(
        session,
        tenant_id=assessment.tenant_id,
        event_type="assessment.submitted",
        user_id=attempt.user_id,
        course_id=course.id,
        payload={
            "assessmentId": str(assessment.id),
            "submissionId": str(attempt.id),
            "courseId": str(course.id),
            "attemptNumber": attempt.attempt_number,
        },
        notice=None if auto else Notice(title=f"To grade: {assessment.title}", recipients=(course.instructor_id,)),
    )
    if auto:
        await graded_event(session, assessment, course, attempt)
    return attempt


async def graded_event(
    session: AsyncSession, assessment: models.Assessment, course: Any, attempt: models.Submission
) -> None:
    assert attempt.score is not None
    await record_event(
        session,
        tenant_id=assessment.tenant_id,
        event_type="assessment.graded",
        user_id=attempt.user_id,
        course_id=course.id,
        payload={
            "submissionId": str(attempt.id),
            "assessmentId": str(assessment.id),
            "score": float(attempt.score),
            "maxScore": float(assessment.max_score),
            "passed": bool(attempt.passed),
        },
        notice=Notice(
            title=f"Graded: {assessment.title}",
            body=f"{attempt.score} / {assessment.max_score}" + (" - passed" if attempt.passed else ""),
            recipients=(attempt.user_id,),
        ),
    )
    if attempt.passed:
        await issue_if_complete(session, assessment.tenant_id, attempt.user_id, course.id, course.title)


async def grade(
    session: AsyncSession,
    tenant: TenantConfig,
    viewer: Viewer,
    submission_id: uuid.UUID,
    *,
    score: float,
    feedback: str | None,
) -> models.Submission:
    repo = AssessmentRepository(session, tenant.id)
    found = await repo.submission(submission_id)
    if found is None:
        raise not_found("submission not found")
    assessment = await repo.get(found.assessment_id)
    assert assessment is not None
    course = (await CourseRepository(session, tenant.id).by_ids([assessment.course_id]))[0]
    if not policies.may_grade(viewer, course.instructor_id):
        raise not_found("submission not found")
    max_score, passing_score = await scoring(repo, assessment, found.assessment_version)
    amount = checked_score(score, "score", max_score)
    if feedback is not None and len(feedback) > MAX_FEEDBACK:
        raise bad_input(f"feedback must be at most {MAX_FEEDBACK} characters")
    # Learner's enrollment first, then the submission: the lock order of every other path.
    await EnrollmentRepository(session, tenant.id).lock(found.user_id, course.id)
    submission = await repo.lock_submission(submission_id)
    assert submission is not None
    now = datetime.now(UTC)
    grader = access.actor_id(viewer)
    submission.score = amount
    submission.passed = amount >= passing_score
    submission.feedback = feedback
    submission.status = "graded"
    submission.graded_at = now
    submission.graded_by = grader
    session.add(
        models.SubmissionGrade(
            tenant_id=tenant.id, submission_id=submission.id, score=amount, feedback=feedback, graded_by=grader
        )
    )
    await session.flush()
    await graded_event(session, assessment, course, submission)
    return submission


async def scoring(repo: AssessmentRepository, assessment: models.Assessment, version: int) -> tuple[Decimal, Decimal]:
    """(max score, passing score) of ``version``: a submission is graded on the scale it answered."""
    if version == assessment.version:
        return assessment.max_score, assessment.passing_score
    earlier = await repo.version(assessment.id, version)
    if earlier is None:
        return assessment.max_score, assessment.passing_score
    return earlier.max_score, earlier.passing_score


async def submissions_page(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    viewer: Viewer,
    assessment_id: uuid.UUID,
    status: str | None,
    after: Keyset | None,
    limit: int,
) -> list[Any]:
    """A page of an assessment's submissions, newest first, for whoever may grade its course;
    for anyone else the assessment does not exist (NOT_FOUND)."""
    repo = AssessmentRepository(session, tenant_id)
    found = await repo.by_ids([assessment_id])
    if not found:
        raise not_found("assessment not found")
    (course,) = await CourseRepository(session, tenant_id).by_ids([found[0].course_id])
    if not policies.may_grade(viewer, course.instructor_id):
        raise not_found("assessment not found")
    return await repo.submissions_page(assessment_id, status, after, limit)


async def visible_submission(
    session: AsyncSession, tenant_id: uuid.UUID, viewer: Viewer, submission_id: uuid.UUID
) -> Any:
    """A submission for its author, or for whoever may grade its course; for anyone else it
    does not exist (NOT_FOUND, like an absent one)."""
    assessments = AssessmentRepository(session, tenant_id)
    row = await assessments.submission(submission_id)
    if row is None:
        raise not_found("submission not found")
    if row.user_id != viewer.id:
        (assessment,) = await assessments.by_ids([row.assessment_id])
        (course,) = await CourseRepository(session, tenant_id).by_ids([assessment.course_id])
        if not policies.may_grade(viewer, course.instructor_id):
            raise not_found("submission not found")
    return row
