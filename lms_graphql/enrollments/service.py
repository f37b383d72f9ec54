"""Enrolling and tracking progress: seat caps and monotonic progress that hold under races."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql import models
from lms_graphql.auth import policies
from lms_graphql.auth.viewer import Viewer
from lms_graphql.courses import access
from lms_graphql.courses.repository import CourseRepository
from lms_graphql.enrollments.certificates import issue_if_complete
from lms_graphql.enrollments.repository import EnrollmentRepository, course_percent
from lms_graphql.errors import ErrorCode, LmsError, bad_input, conflict, not_found
from lms_graphql.events.publish import Notice, record_event
from lms_graphql.kit.pagination import Keyset
from lms_graphql.kit.repository import insert_or_conflict
from lms_graphql.paths.service import require_open
from lms_graphql.tenancy.tenant import TenantConfig

ALREADY_ENROLLED = "you are already enrolled in this course"


async def enroll(
    session: AsyncSession, tenant: TenantConfig, viewer: Viewer, course_id: uuid.UUID
) -> models.Enrollment:
    access.require_member(viewer, "enroll")
    # The course row lock serialises enrollments into one course: the cap cannot overshoot.
    course = await CourseRepository(session, tenant.id).lock(course_id)
    if course is None or not access.can_see(viewer, course):
        raise not_found("course not found")
    if course.status != "published":
        raise bad_input("this course is not open for enrollment")
    await require_open(session, tenant.id, course.id, viewer.id)
    enrollments = EnrollmentRepository(session, tenant.id)
    earlier = await enrollments.lock(viewer.id, course.id)
    if earlier is not None and earlier.status != "dropped":
        raise conflict(ALREADY_ENROLLED)
    if course.max_enrollment is not None and await enrollments.seats_taken(course.id) >= course.max_enrollment:
        raise LmsError(ErrorCode.COURSE_FULL, f"this course is full ({course.max_enrollment} students)")
    if earlier is not None:
        # Back after leaving: the same enrollment, its progress as it was.
        earlier.status, earlier.dropped_at = "active", None
        await session.flush()
        enrollment = earlier
    else:
        enrollment = models.Enrollment(id=uuid.uuid4(), tenant_id=tenant.id, user_id=viewer.id, course_id=course.id)
        await insert_or_conflict(session, enrollment, {"uq_enrollments_tenant_id_user_id_course_id": ALREADY_ENROLLED})
    await record_event(
        session,
        tenant_id=tenant.id,
        event_type="student.enrolled",
        user_id=viewer.id,
        course_id=course.id,
        payload={"courseId": str(course.id), "courseName": course.title, "enrollmentId": str(enrollment.id)},
        notice=Notice(title=f"{viewer.user.full_name} enrolled in {course.title}", recipients=(course.instructor_id,)),
    )
    return enrollment


async def drop(
    session: AsyncSession, tenant: TenantConfig, viewer: Viewer, course_id: uuid.UUID, removed: uuid.UUID | None
) -> models.Enrollment:
    """The viewer leaves the course, or (``removed``) the course's instructor or an admin
    removes that learner from it: the seat is freed; the enrollment and its progress stay as
    history (DROPPED), and enrolling again reopens them. A completed course stays on the record."""
    courses = CourseRepository(session, tenant.id)
    course = await courses.lock(course_id)  # the lock enrollments take: seats are counted under it
    if course is None or not access.can_see(viewer, course):
        raise not_found("course not found")
    removing = removed is not None
    if removed is not None:
        access.require_edit(viewer, course)  # the course's instructor, or an admin
        user_id = removed
    else:
        access.require_member(viewer, "drop a course")
        user_id = viewer.id
    enrollment = await EnrollmentRepository(session, tenant.id).lock(user_id, course.id)
    if enrollment is None or enrollment.status == "dropped":
        raise not_found("enrollment not found")
    if enrollment.status == "completed":
        raise bad_input("a completed course stays on the learner's record: it cannot be dropped")
    now = datetime.now(UTC)
    enrollment.status, enrollment.dropped_at = "dropped", now
    await session.flush()
    await record_event(
        session,
        tenant_id=tenant.id,
        event_type="student.dropped",
        user_id=user_id,
        course_id=course.id,
        payload={
            "courseId": str(course.id),
            "enrollmentId": str(enrollment.id),
            "removedBy": str(access.actor_id(viewer)) if removing else None,
        },
        notice=Notice(title=f"You were removed from {course.title}", recipients=(user_id,)) if removing else None,
    )
    return enrollment


def _status_for(percent: int) -> str:
    if percent >= 100:
        return "completed"
    return "in_progress" if percent > 0 else "not_started"


async def update_progress(
    session: AsyncSession, tenant: TenantConfig, viewer: Viewer, lesson_id: uuid.UUID, progress: int
) -> models.LessonProgress:
    """Record progress on a lesson. Progress never decreases; the course percent and the
    enrollment's completion move in the same transaction."""
    access.require_member(viewer, "track progress")
    if not 0 <= progress <= 100:
        raise bad_input(f"progress must be between 0 and 100, got {progress}")
    courses = CourseRepository(session, tenant.id)
    lesson = await courses.live_lesson(lesson_id, viewer.id)  # an archived lesson takes no more progress
    if lesson is None:
        raise not_found("lesson not found")
    enrollments = EnrollmentRepository(session, tenant.id)
    # Locking the enrollment serialises this student's writes in this course.
    enrollment = await enrollments.lock(viewer.id, lesson.course_id)
    if enrollment is None or enrollment.status == "dropped":
        course = (await courses.by_ids([lesson.course_id]))[0]
        if not access.can_see(viewer, course):
            raise not_found("lesson not found")
        raise LmsError(ErrorCode.FORBIDDEN, "enroll in the course before tracking progress")
    if lesson.lock_reason is not None:
        raise LmsError(ErrorCode.LOCKED, f"this lesson is locked: {lesson.lock_reason}")

    now = datetime.now(UTC)
    row = await enrollments.progress_row(viewer.id, lesson.id)
    previous = row.progress_pct if row is not None else None
    reached = max(progress, previous or 0)
    if row is None:
        row = models.LessonProgress(
            id=uuid.uuid4(),
            tenant_id=tenant.id,
            user_id=viewer.id,
            course_id=lesson.course_id,
            lesson_id=lesson.id,
            progress_pct=0,
        )
        session.add(row)
    if previous is None or reached > previous:
        row.progress_pct = reached
        row.status = _status_for(reached)
        if reached > 0 and row.started_at is None:
            row.started_at = now
        if reached == 100:
            row.completed_at = now
    just_completed = reached == 100 and previous != 100
    enrollment.last_accessed_at = now
    await session.flush()

    percent = enrollment.progress_pct
    if just_completed:
        completed, total = await enrollments.completion(viewer.id, lesson.course_id)
        percent = course_percent(completed, total)
        enrollment.progress_pct = percent
        if percent >= 100 and enrollment.status != "completed":
            enrollment.status = "completed"
            enrollment.completed_at = now
        await session.flush()
        if percent >= 100:
            course = (await courses.by_ids([lesson.course_id]))[0]
            await issue_if_complete(session, tenant.id, viewer.id, course.id, course.title)
    if previous is None or reached > previous:
        await record_event(
            session,
            tenant_id=tenant.id,
            event_type="lesson.progressed",
            user_id=viewer.id,
            course_id=lesson.course_id,
            payload={
                "courseId": str(lesson.course_id),
                "moduleId": str(lesson.module_id),
                "lessonId": str(lesson.id),
                "progressPct": reached,
                "status": row.status,
                "coursePercent": float(percent),
            },
        )
    if just_completed:
        await record_event(
            session,
            tenant_id=tenant.id,
            event_type="lesson.completed",
            user_id=viewer.id,
            course_id=lesson.course_id,
            payload={
                "courseId": str(lesson.course_id),
                "moduleId": str(lesson.module_id),
                "lessonId": str(lesson.id),
                "progressPercent": float(percent),
            },
        )
    return row


async def of_viewer(session: AsyncSession, tenant_id: uuid.UUID, viewer: Viewer) -> list[Any]:
    """The viewer's own enrollments, newest first."""
    return list(await EnrollmentRepository(session, tenant_id).of_user(viewer.id))


async def page_of_viewer(
    session: AsyncSession, tenant_id: uuid.UUID, viewer: Viewer, after: Keyset | None, limit: int
) -> list[Any]:
    """A page of the viewer's own enrollments, newest first (``limit`` rows)."""
    return await EnrollmentRepository(session, tenant_id).page_of_user(viewer.id, after, limit)


async def students_page(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    viewer: Viewer,
    course_id: uuid.UUID,
    instructor_id: object,
    after: Keyset | None,
    limit: int,
) -> list[Any]:
    """A page of a course's enrollments, newest first: for its instructor and admins."""
    if not policies.may_view_students(viewer, instructor_id):
        raise LmsError(ErrorCode.FORBIDDEN, "only the course's instructor or an admin may see its students")
    return await EnrollmentRepository(session, tenant_id).page_of_course(course_id, after, limit)


async def students_of(
    session: AsyncSession, tenant_id: uuid.UUID, viewer: Viewer, course_id: uuid.UUID, instructor_id: object
) -> list[Any]:
    """A course's enrollments: for its instructor and admins."""
    if not policies.may_view_students(viewer, instructor_id):
        raise LmsError(ErrorCode.FORBIDDEN, "only the course's instructor or an admin may see its students")
    return list(await EnrollmentRepository(session, tenant_id).of_course(course_id))


async def is_enrolled(session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID, course_id: uuid.UUID) -> bool:
    """Whether the user has an enrollment in the course, in any status (it shows the course)."""
    return bool(await EnrollmentRepository(session, tenant_id).of_user_in(user_id, [course_id]))
