"""REST: enrollments, a course's students, a submission, and the analytics, by the same
services and rules as their GraphQL fields."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from lms_graphql.analytics import service as analytics
from lms_graphql.assessments import service as assessments
from lms_graphql.auth.permissions import Permission
from lms_graphql.context import Context
from lms_graphql.courses import access
from lms_graphql.courses import service as courses
from lms_graphql.enrollments import service as enrollments
from lms_graphql.errors import not_found
from lms_graphql.kit.pagination import decode_cursor
from lms_graphql.rest import models
from lms_graphql.rest.pages import etagged, page_of
from lms_graphql.rest.runner import operation
from lms_graphql.rest.uploads import submission_body
from lms_graphql.rest.writes import write

router = APIRouter()
First = Annotated[int, Query(ge=0, le=100, description="Page size, 0-100.")]
After = Annotated[str | None, Query(description="nextCursor of the previous page.")]


async def visible_course(context: Context, course_id: uuid.UUID) -> Any:
    """As course(id): the course if the viewer may see it, or is (was) enrolled in it."""
    viewer = context.require_viewer()
    async with context.read() as session:
        row = await courses.find(session, context.tenant.id, course_id)
        if row is None or not (
            access.can_see(viewer, row)
            or await enrollments.is_enrolled(session, context.tenant.id, viewer.id, course_id)
        ):
            raise not_found("course not found")
    return row


@router.get(
    "/enrollments",
    response_model=models.EnrollmentPage,
    tags=["enrollments"],
    summary="The signed-in user's enrollments (any status), newest first",
)
async def list_enrollments(request: Request, first: First = 20, after: After = None) -> Response:
    async def work(context: Context) -> list[Any]:
        viewer = context.require_viewer()
        cursor = decode_cursor(after) if after else None
        async with context.read() as session:
            return await enrollments.page_of_viewer(session, context.tenant.id, viewer, cursor, first + 1)

    page, cursor = page_of(await operation(request, work, cost=first), first, "enrolled_at")
    body = models.EnrollmentPage(items=[models.Enrollment.of(row) for row in page], next_cursor=cursor)
    return etagged(request, body, next_cursor=cursor)


@router.get(
    "/courses/{course_id}/students",
    response_model=models.EnrollmentPage,
    tags=["enrollments"],
    summary="A course's enrollments (any status), newest first: for its instructor and admins",
)
async def list_students(request: Request, course_id: uuid.UUID, first: First = 20, after: After = None) -> Response:
    async def work(context: Context) -> list[Any]:
        course = await visible_course(context, course_id)
        cursor = decode_cursor(after) if after else None
        viewer = context.require_viewer()
        async with context.read() as session:
            return await enrollments.students_page(
                session, context.tenant.id, viewer, course.id, course.instructor_id, cursor, first + 1
            )

    page, cursor = page_of(await operation(request, work, cost=first), first, "enrolled_at")
    body = models.EnrollmentPage(items=[models.Enrollment.of(row) for row in page], next_cursor=cursor)
    return etagged(request, body, next_cursor=cursor)


@router.get(
    "/submissions/{submission_id}",
    response_model=models.Submission,
    tags=["assessments"],
    summary="A submission: for its author, and for the course's instructor and admins",
)
async def get_submission(request: Request, submission_id: uuid.UUID) -> Response:
    async def work(context: Context) -> models.Submission:
        viewer = context.require_viewer()
        async with context.read() as session:
            row = await assessments.visible_submission(session, context.tenant.id, viewer, submission_id)
        return await submission_body(context, row)

    return etagged(request, await operation(request, work))


@router.get(
    "/analytics/courses/{course_id}/completion",
    response_model=models.CourseCompletion,
    tags=["analytics"],
    summary="A course's enrollment, progress and score numbers: for its instructor and admins",
)
async def course_completion(request: Request, course_id: uuid.UUID) -> Response:
    async def work(context: Context) -> models.CourseCompletion:
        course = await visible_course(context, course_id)
        async with context.read() as session:
            numbers = await analytics.course_numbers(
                session, context.tenant.id, context.require_viewer(), course.id, course.instructor_id
            )
        return models.CourseCompletion(
            course_id=course.id,
            enrollment_count=numbers.enrollment_count,
            completed_count=numbers.completed_count,
            completion_rate=numbers.completion_rate,
            average_progress=numbers.average_progress,
            average_score=numbers.average_score,
            lessons=[
                models.LessonCompletion(
                    lesson_id=row.id,
                    completed_count=int(row.completed_count),
                    completion_rate=numbers.lesson_rate(row),
                )
                for row in numbers.lessons
            ],
        )

    return etagged(request, await operation(request, work))


@router.get(
    "/analytics/tenant/overview",
    response_model=models.TenantOverview,
    tags=["analytics"],
    summary="Counts across the tenant: for admins",
)
async def tenant_overview(request: Request) -> Response:
    async def work(context: Context) -> models.TenantOverview:
        async with context.read() as session:
            numbers = await analytics.tenant_numbers(session, context.tenant.id, context.require_viewer())
        tenant = context.tenant
        placement = models.TenantPlacement(tenant.placement.upper())
        return models.TenantOverview(**dataclasses.asdict(numbers), placement=placement, region=tenant.region)

    return etagged(request, await operation(request, work))


@router.post(
    "/courses/{course_id}/enroll",
    response_model=models.Enrollment,
    status_code=201,
    tags=["enrollments"],
    summary="Enroll the signed-in user in a published course",
)
async def enroll(request: Request, course_id: uuid.UUID) -> Response:
    async def work(context: Context) -> models.Enrollment:
        viewer = context.require(Permission.COURSE_ENROLL)
        async with context.write() as session:
            return models.Enrollment.of(await enrollments.enroll(session, context.tenant, viewer, course_id))

    return await write(request, "enrollInCourse", work, status=201)


@router.put(
    "/lessons/{lesson_id}/progress",
    response_model=models.LessonProgress,
    tags=["enrollments"],
    summary="Record the signed-in user's progress on a lesson (0-100, never decreasing)",
)
async def update_progress(request: Request, lesson_id: uuid.UUID, body: models.ProgressIn) -> Response:
    async def work(context: Context) -> models.LessonProgress:
        viewer = context.require_viewer()
        async with context.write() as session:
            row = await enrollments.update_progress(session, context.tenant, viewer, lesson_id, body.progress)
        return models.LessonProgress.of(row)

    return await write(request, "updateLessonProgress", work, body=body.model_dump(mode="json"))
