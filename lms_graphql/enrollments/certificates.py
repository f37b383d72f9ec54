"""Certificates: earned once per learner and course, the moment the course is complete."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql.enrollments.certificate_repository import CertificateRepository
from lms_graphql.enrollments.repository import EnrollmentRepository
from lms_graphql.events.publish import Notice, record_event
from lms_graphql.models.tenant import CERTIFICATES
from lms_graphql.tenancy.repository import TenantRepository

# 20 random bytes: 160 bits, far beyond guessing, in 27 URL-safe characters.
CODE_BYTES = 20


def new_verification_code() -> str:
    return secrets.token_urlsafe(CODE_BYTES)


async def issue_if_complete(
    session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID, course_id: uuid.UUID, course_title: str
) -> Any | None:
    """Issue the certificate if the course is now complete: every lesson completed and every
    assessment passed by some attempt. The caller holds the learner's enrollment lock, so
    concurrent completions are evaluated one after the other; the unique key makes a second
    issue impossible anyway. Returns the new certificate, or None."""
    completed, total = await EnrollmentRepository(session, tenant_id).completion(user_id, course_id)
    if total == 0 or completed < total:
        return None
    certificates = CertificateRepository(session, tenant_id)
    if await certificates.assessments_not_passed(user_id, course_id):
        return None
    if CERTIFICATES not in await TenantRepository(session).features_here(tenant_id):
        return None  # switched off: completing a course earns nothing
    certificate = await certificates.issue(user_id, course_id, new_verification_code())
    if certificate is None:
        return None
    await record_event(
        session,
        tenant_id=tenant_id,
        event_type="certificate.issued",
        user_id=user_id,
        course_id=course_id,
        payload={"certificateId": str(certificate.id), "courseId": str(course_id), "courseName": course_title},
        notice=Notice(title=f"Certificate earned: {course_title}", recipients=(user_id,)),
    )
    return certificate


async def verify(session: AsyncSession, tenant_id: uuid.UUID, code: str) -> Any | None:
    """Public: the certificate with this verification code in this tenant, or None."""
    return await CertificateRepository(session, tenant_id).verify(code)
