"""REST: the course catalogue, by the same services and rules as Query.courses and course(id)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from lms_graphql.context import Context
from lms_graphql.courses import access, service
from lms_graphql.kit.pagination import decode_cursor, encode_cursor
from lms_graphql.rest import models
from lms_graphql.rest.learning import visible_course
from lms_graphql.rest.pages import etagged
from lms_graphql.rest.runner import operation

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

    rows = await operation(request, work, cost=first)
    page = rows[:first]
    more = len(rows) > first and bool(page)
    cursor = encode_cursor(page[-1].created_at, page[-1].id) if more else None  # type: ignore[attr-defined]
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
