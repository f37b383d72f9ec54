"""Changing an assessment after it was created, removing it, and regrading a version.

A change of its questions or scoring once anyone has attempted it makes a new version: the one
before is kept (assessment_versions), and every submission keeps the version it answered and
the score it got. Regrading is explicit: ``regrade`` scores one version's submissions again,
against the current questions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import null
from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql import models
from lms_graphql.assessments import questions as question_model
from lms_graphql.assessments.repository import AssessmentRepository
from lms_graphql.assessments.service import (
    AUTO_GRADED_TYPES,
    MAX_ATTEMPTS,
    MAX_SCORE,
    MAX_TIME_LIMIT_MIN,
    checked_score,
    graded_event,
)
from lms_graphql.auth.viewer import Viewer
from lms_graphql.courses import access, validation
from lms_graphql.courses.repository import CourseRepository
from lms_graphql.enrollments.repository import EnrollmentRepository
from lms_graphql.errors import bad_input, conflict, not_found
from lms_graphql.storage.repository import FileRepository
from lms_graphql.storage.service import forget_files
from lms_graphql.tenancy.tenant import TenantConfig

NOT_FOUND = "assessment not found"


@dataclass(frozen=True)
class AssessmentChanges:
    """What to change; a field left None (and its ``_set`` False) stays as it is."""

    title: str | None = None
    max_score: float | None = None
    passing_score: float | None = None
    time_limit_min: int | None = None
    time_limit_set: bool = False
    max_attempts: int | None = None
    max_attempts_set: bool = False
    due_at: datetime | None = None
    due_at_set: bool = False
    accepts_late: bool | None = None
    questions: Any = None
    questions_set: bool = False


async def _editable(
    session: AsyncSession, tenant: TenantConfig, viewer: Viewer, assessment_id: uuid.UUID
) -> tuple[models.Assessment, Any]:
    """The assessment, locked after its course (the order of every content edit), if the
    viewer may edit the course."""
    repo = AssessmentRepository(session, tenant.id)
    found = await repo.get(assessment_id)
    if found is None:
        raise not_found(NOT_FOUND)
    course = await CourseRepository(session, tenant.id).lock(found.course_id)
    if course is None or not access.can_see(viewer, course):
        raise not_found(NOT_FOUND)
    access.require_edit(viewer, course)
    assessment = await repo.lock(assessment_id)
    if assessment is None:
        raise not_found(NOT_FOUND)
    return assessment, course


async def update_assessment(
    session: AsyncSession, tenant: TenantConfig, viewer: Viewer, assessment_id: uuid.UUID, changes: AssessmentChanges
) -> models.Assessment:
    assessment, _ = await _editable(session, tenant, viewer, assessment_id)
    max_score = checked_score(changes.max_score, "maxScore", MAX_SCORE) if changes.max_score is not None else None
    if max_score == 0:
        raise bad_input("maxScore must be above 0")
    ceiling = max_score if max_score is not None else assessment.max_score
    passing = (
        checked_score(changes.passing_score, "passingScore", ceiling) if changes.passing_score is not None else None
    )
    if passing is None and assessment.passing_score > ceiling:
        raise bad_input(f"passingScore ({assessment.passing_score}) would be above maxScore: change it too")
    questions = question_model.validate_questions(changes.questions) if changes.questions_set else None
    limit, attempts = changes.time_limit_min, changes.max_attempts
    if changes.time_limit_set and limit is not None and not 1 <= limit <= MAX_TIME_LIMIT_MIN:
        raise bad_input(f"timeLimitMin must be between 1 and {MAX_TIME_LIMIT_MIN}")
    if changes.max_attempts_set and attempts is not None and not 1 <= attempts <= MAX_ATTEMPTS:
        raise bad_input(f"maxAttempts must be between 1 and {MAX_ATTEMPTS}, or null for unlimited")
    regrading = (
        (questions is not None and questions != assessment.questions)
        or (max_score is not None and max_score != assessment.max_score)
        or (passing is not None and passing != assessment.passing_score)
    )
    repo = AssessmentRepository(session, tenant.id)
    if regrading and await repo.has_submissions(assessment.id):
        session.add(
            models.AssessmentVersion(
                tenant_id=tenant.id,
                assessment_id=assessment.id,
                version=assessment.version,
                questions=assessment.questions,
                max_score=assessment.max_score,
                passing_score=assessment.passing_score,
            )
        )
        assessment.version += 1
    if changes.title is not None:
        assessment.title = validation.title(changes.title)
    if max_score is not None:
        assessment.max_score = max_score
    if passing is not None:
        assessment.passing_score = passing
    if questions is not None:
        assessment.questions = questions
    if changes.time_limit_set:
        assessment.time_limit_min = changes.time_limit_min
    if changes.max_attempts_set:
        assessment.max_attempts = changes.max_attempts if changes.max_attempts is not None else null()
    if changes.due_at_set:
        assessment.due_at = changes.due_at
    if changes.accepts_late is not None:
        assessment.accepts_late = changes.accepts_late
    await session.flush()
    await session.refresh(assessment)
    return assessment


async def delete_assessment(
    session: AsyncSession, tenant: TenantConfig, viewer: Viewer, assessment_id: uuid.UUID
) -> uuid.UUID:
    """Only an assessment nobody has attempted: submissions are grades, and grades are kept."""
    assessment, _ = await _editable(session, tenant, viewer, assessment_id)
    if await AssessmentRepository(session, tenant.id).has_submissions(assessment.id):
        raise conflict("this assessment has submissions (grades are kept): it cannot be deleted")
    await forget_files(session, tenant.id, await FileRepository(session, tenant.id).of_assessment(assessment.id))
    await session.delete(assessment)
    await session.flush()
    return assessment_id


async def regrade(
    session: AsyncSession, tenant: TenantConfig, viewer: Viewer, assessment_id: uuid.UUID, version: int
) -> int:
    """Scores the submissions that answered ``version`` again, against the current questions and
    scoring, and moves them to the current version; how many were regraded. Each keeps its
    earlier grade in its history, and its learner is notified when the score changed."""
    assessment, course = await _editable(session, tenant, viewer, assessment_id)
    if not 1 <= version <= assessment.version:
        raise bad_input(f"version must be between 1 and {assessment.version}")
    gradable = assessment.assessment_type in AUTO_GRADED_TYPES and question_model.auto_gradable(assessment.questions)
    if not gradable:
        raise bad_input("only quizzes and exams whose questions all have answer keys are graded automatically")
    repo = AssessmentRepository(session, tenant.id)
    submissions = await repo.answered(assessment.id, version)
    # Learners' enrollments first, then their submissions: the lock order of every other path.
    enrollments = EnrollmentRepository(session, tenant.id)
    for user_id in sorted({submission.user_id for submission in submissions}):
        await enrollments.lock(user_id, course.id)
    now, grader = datetime.now(UTC), access.actor_id(viewer)
    for found in submissions:
        submission = await repo.lock_submission(found.id)
        assert submission is not None
        score = question_model.grade(assessment.questions, submission.answers, assessment.max_score)
        changed = score != submission.score or submission.status != "graded"
        submission.score, submission.passed = score, score >= assessment.passing_score
        submission.status, submission.graded_at, submission.graded_by = "graded", now, grader
        submission.assessment_version = assessment.version
        feedback = f"Regraded against version {assessment.version} of the questions."
        session.add(
            models.SubmissionGrade(
                tenant_id=tenant.id, submission_id=submission.id, score=score, feedback=feedback, graded_by=grader
            )
        )
        await session.flush()
        if changed:
            await graded_event(session, assessment, course, submission)
    return len(submissions)


async def current_version(session: AsyncSession, tenant: TenantConfig, assessment_id: uuid.UUID) -> int:
    assessment = await AssessmentRepository(session, tenant.id).get(assessment_id)
    if assessment is None:
        raise not_found(NOT_FOUND)
    return assessment.version
