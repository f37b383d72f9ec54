"""REST: the course catalogue, by the same services and rules as Query.courses and course(id)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from lms_graphql.auth.permissions import Permission
from lms_graphql.context import Context
from lms_graphql.courses import access, service
from lms_graphql.errors import bad_input
from lms_graphql.kit.pagination import decode_cursor
from lms_graphql.rest import models
from lms_graphql.rest.learning import visible_course
from lms_graphql.rest.pages import etagged, page_of
from lms_graphql.rest.runner import operation
from lms_graphql.rest.writes import write

router = APIRouter(tags=["courses"])


@router.get(
    "/courses",
    response_model=models.CoursePage,
    summary="The catalogue, newest first",
    description="Students see published courses, instructors also their own, admins all. A page at a time: "
    "the Link header (rel=next) and nextCursor give the next page.",
)
async def list_courses(
    request: Request,
    first: Annotated[int, Query(ge=0, le=100, description="Page size, 0-100.")] = 20,
    after: Annotated[str | None, Query(description="nextCursor of the previous page.")] = None,
    status: Annotated[models.CourseStatus | None, Query(description="Only courses in this status.")] = None,
    search: Annotated[
        str | None,
        Query(max_length=access.MAX_SEARCH, description="Text the title or description contains (literal)."),
    ] = None,
) -> Response:
    async def work(context: Context) -> list[object]:
        viewer = context.require_viewer()
        keyset = decode_cursor(after) if after else None
        course_filter = access.listing_filter(
            viewer, status=status.value.lower() if status else None, search=(search or "").strip() or None
        )
        async with context.read() as session:
            return list(await service.page(session, context.tenant.id, course_filter, keyset, first + 1))

    page, cursor = page_of(await operation(request, work, cost=first), first, "created_at")
    body = models.CoursePage(items=[models.Course.of(row) for row in page], next_cursor=cursor)
    return etagged(request, body, next_cursor=cursor)


@router.get(
    "/courses/{course_id}",
    response_model=models.Course,
    summary="One course",
    description="404 when it is unknown, in another tenant, or hidden from you (a draft of someone else's).",
)
async def get_course(request: Request, course_id: uuid.UUID) -> Response:
    async def work(context: Context) -> object:
        return await visible_course(context, course_id)

    return etagged(request, models.Course.of(await operation(request, work)))


@router.post(
    "/courses",
    response_model=models.Course,
    status_code=201,
    summary="Create a course (instructors and admins): a draft",
    description="Send an Idempotency-Key to make a retry safe: the same key and body answer the first response.",
)
async def create_course(request: Request, body: models.CourseCreate) -> Response:
    async def work(context: Context) -> models.Course:
        viewer = context.require(Permission.COURSE_CREATE)
        async with context.write() as session:
            course = await service.create_course(
                session,
                context.tenant,
                viewer,
                title=body.title,
                slug=body.slug,
                description=body.description,
                max_enrollment=body.max_enrollment,
                instructor_id=body.instructor_id,
            )
        return models.Course.of(course)

    return await write(request, "createCourse", work, body=body.model_dump(mode="json"), status=201)


@router.put(
    "/courses/{course_id}",
    response_model=models.Course,
    summary="Change a course's title, description or cap (its instructor and admins)",
)
async def update_course(request: Request, course_id: uuid.UUID, body: models.CourseUpdate) -> Response:
    given = body.model_fields_set

    async def work(context: Context) -> models.Course:
        viewer = context.require_viewer()
        if "title" in given and body.title is None:
            raise bad_input("title must not be empty")
        changes = service.CourseChanges(
            title=body.title,
            description=body.description,
            description_set="description" in given,
            max_enrollment=body.max_enrollment,
            max_enrollment_set="max_enrollment" in given,
        )
        async with context.write() as session:
            return models.Course.of(await service.update_course(session, context.tenant, viewer, course_id, changes))

    return await write(request, "updateCourse", work, body=body.model_dump(mode="json", exclude_unset=True))


@router.delete(
    "/courses/{course_id}",
    response_model=models.Course,
    summary="Archive a course (its instructor and admins): closed to new enrollments, kept for its learners",
)
async def archive_course(request: Request, course_id: uuid.UUID) -> Response:
    async def work(context: Context) -> models.Course:
        viewer = context.require_viewer()
        async with context.write() as session:
            return models.Course.of(await service.archive_course(session, context.tenant, viewer, course_id))

    return await write(request, "archiveCourse", work)
