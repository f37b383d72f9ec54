"""Files a learner hands in with a submission: uploaded like lesson content (storage/service.py),
for an assessment of a course the learner is enrolled in, attached when submitting."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql import models
from lms_graphql.assessments.repository import AssessmentRepository
from lms_graphql.auth.viewer import Viewer
from lms_graphql.courses import access
from lms_graphql.courses.repository import CourseRepository
from lms_graphql.enrollments.repository import EnrollmentRepository
from lms_graphql.errors import ErrorCode, LmsError, bad_input, not_found
from lms_graphql.storage import keys
from lms_graphql.storage.backends import Storage
from lms_graphql.storage.repository import FileRepository
from lms_graphql.storage.service import (
    Ticket,
    checked_upload,
    issue_ticket,
    pending_upload,
)
from lms_graphql.tenancy.tenant import TenantConfig

MAX_FILES_PER_SUBMISSION = 10


async def request_submission_upload(
    session: AsyncSession,
    tenant: TenantConfig,
    viewer: Viewer,
    storage: Storage,
    assessment_id: uuid.UUID,
    content_type: str,
    size: int,
) -> Ticket:
    """For a learner enrolled in the assessment's course: where to upload a file to submit."""
    await _learner_of(session, tenant, viewer, assessment_id)

    def key_of(file_id: uuid.UUID, kind: str) -> str:
        return keys.submission_file(tenant.id, assessment_id, viewer.id, file_id, kind)

    return await issue_ticket(
        session, storage, tenant.id, viewer, "submission", content_type, size, key_of, assessment_id=assessment_id
    )


async def _learner_of(session: AsyncSession, tenant: TenantConfig, viewer: Viewer, assessment_id: uuid.UUID) -> None:
    access.require_member(viewer, "submit files")
    assessments = await AssessmentRepository(session, tenant.id).by_ids([assessment_id])
    if not assessments:
        raise not_found("assessment not found")
    course = (await CourseRepository(session, tenant.id).by_ids([assessments[0].course_id]))[0]
    enrollments = await EnrollmentRepository(session, tenant.id).of_user_in(viewer.id, [course.id])
    if not enrollments or enrollments[0].status == "dropped":
        if not access.can_see(viewer, course):
            raise not_found("assessment not found")
        raise LmsError(ErrorCode.FORBIDDEN, "enroll in the course before submitting to its assessments")


async def confirm_submission_upload(
    session: AsyncSession,
    tenant: TenantConfig,
    viewer: Viewer,
    storage: Storage,
    file_id: uuid.UUID,
    assessment_id: uuid.UUID | None = None,
) -> models.StoredFile:
    file = await pending_upload(session, tenant, viewer, file_id, "submission", assessment_id)
    assert file.assessment_id is not None
    await _learner_of(session, tenant, viewer, file.assessment_id)
    file.size_bytes = await checked_upload(storage, file)
    file.status, file.confirmed_at = "ready", datetime.now(UTC)
    await session.flush()
    return file


async def attach_to_submission(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    viewer: Viewer,
    assessment_id: uuid.UUID,
    submission_id: uuid.UUID,
    file_ids: Sequence[uuid.UUID],
) -> None:
    """The learner's confirmed, unattached files for this assessment become the submission's."""
    wanted = list(dict.fromkeys(file_ids))
    if len(wanted) > MAX_FILES_PER_SUBMISSION:
        raise bad_input(f"a submission carries at most {MAX_FILES_PER_SUBMISSION} files")
    files = FileRepository(session, tenant_id)
    for file_id in wanted:
        file = await files.locked(file_id)
        usable = (
            file is not None
            and file.purpose == "submission"
            and file.uploaded_by == viewer.id
            and file.assessment_id == assessment_id
        )
        if not usable:
            raise bad_input(f"file {file_id} is not one of your uploads for this assessment")
        assert file is not None
        if file.status != "ready":
            raise bad_input(f"file {file_id} is not confirmed yet")
        if file.submission_id is not None:
            raise bad_input(f"file {file_id} belongs to another submission already")
    if wanted:
        await files.attach(wanted, submission_id)
