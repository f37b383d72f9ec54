"""REST: a course's modules, a module's lessons, a course's assessments and submitting one, by
the same loaders and rules as the GraphQL fields (lesson content and locks: courses/types.py's
lesson_views; answer keys: questions_seen_by)."""

from __future__ import annotations

import asyncio
import uuid

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from lms_graphql.assessments import service as assessments
from lms_graphql.assessments.questions import questions_seen_by
from lms_graphql.auth.permissions import Permission
from lms_graphql.context import Context
from lms_graphql.courses import service as courses
from lms_graphql.courses.types import lesson_views, module_lock
from lms_graphql.errors import not_found
from lms_graphql.rest import models
from lms_graphql.rest.learning import visible_course
from lms_graphql.rest.pages import etagged
from lms_graphql.rest.runner import operation
from lms_graphql.rest.uploads import lesson_media, submission_body
from lms_graphql.rest.writes import write
from lms_graphql.storage.types import signed_url

router = APIRouter()


@router.get(
    "/courses/{course_id}/modules",
    response_model=models.ModuleList,
    tags=["content"],
    summary="A course's modules in position order, with whether each is locked for you",
)
async def list_modules(request: Request, course_id: uuid.UUID) -> Response:
    async def work(context: Context) -> models.ModuleList:
        await visible_course(context, course_id)
        rows = await context.loaders.modules_of_course.load(course_id)
        locks = await asyncio.gather(
            *(module_lock(context, row.id, row.unlock_at, row.requires_previous) for row in rows)
        )
        return models.ModuleList(items=[models.Module.of(row, lock) for row, lock in zip(rows, locks, strict=True)])

    return etagged(request, await operation(request, work))


@router.get(
    "/modules/{module_id}/lessons",
    response_model=models.LessonList,
    tags=["content"],
    summary="A module's lessons in position order, with your progress",
    description="contentRef only for enrolled learners (while the lesson is not locked for them) and for those who "
    "may edit the course.",
)
async def list_lessons(request: Request, module_id: uuid.UUID) -> Response:
    async def work(context: Context) -> models.LessonList:
        async with context.read() as session:
            module = await courses.find_module(session, context.tenant.id, module_id)
        if module is None:
            raise not_found("module not found")
        await visible_course(context, module.course_id)
        rows = await context.loaders.lessons_of_module.load(module_id)
        views = await lesson_views(context, rows)
        visible = [view.row.id for view in views if view.content_visible]
        files = dict(zip(visible, await context.loaders.lesson_content.load_many(visible), strict=True))
        media_ids = [file.id for file in files.values() if file is not None]
        media = dict(zip(media_ids, await context.loaders.media.load_many(media_ids), strict=True))
        items = []
        for view in views:
            file = files.get(view.row.id)
            found = media.get(file.id) if file is not None else None
            items.append(
                models.Lesson.of(
                    view.row,
                    view.progress,
                    view.content_visible,
                    view.lock,
                    content_url=signed_url(context, file.object_key) if file is not None else None,
                    media=lesson_media(context, found) if found is not None else None,
                )
            )
        return models.LessonList(items=items)

    return etagged(request, await operation(request, work))


@router.get(
    "/courses/{course_id}/assessments",
    response_model=models.AssessmentList,
    tags=["assessments"],
    summary="A course's assessments, soonest due first (undated ones last)",
    description="Answer keys (answer, answers, accepted, caseSensitive, explanation) only for those who may edit "
    "the course.",
)
async def list_assessments(request: Request, course_id: uuid.UUID) -> Response:
    async def work(context: Context) -> models.AssessmentList:
        course = await visible_course(context, course_id)
        viewer = context.require_viewer()
        rows = await context.loaders.assessments_of_course.load(course_id)
        return models.AssessmentList(
            items=[
                models.Assessment.of(row, questions_seen_by(viewer, course.instructor_id, row.questions))
                for row in rows
            ]
        )

    return etagged(request, await operation(request, work))


@router.post(
    "/assessments/{assessment_id}/submissions",
    response_model=models.Submission,
    status_code=201,
    tags=["assessments"],
    summary="Submit an attempt (the started one, or a new one); graded at once when it can be",
    description="As the submitAssessment mutation, with its errors: NOT_FOUND when the assessment is unknown or its "
    "course hidden from you; FORBIDDEN when not enrolled; BAD_USER_INPUT for answers that do not fit the questions, "
    "a timed attempt out of time or a passed due date when late submissions are refused; ATTEMPTS_EXHAUSTED when "
    "maxAttempts are used; CONFLICT when the same attempt was submitted concurrently.",
)
async def submit(request: Request, assessment_id: uuid.UUID, body: models.SubmissionIn) -> Response:
    async def work(context: Context) -> models.Submission:
        viewer = context.require(Permission.SUBMISSION_SUBMIT)
        async with context.write() as session:
            expired = await assessments.close_expired_attempts(session, context.tenant, viewer, assessment_id)
        async with context.write() as session:
            row = await assessments.submit(
                session,
                context.tenant,
                viewer,
                assessment_id,
                body.answers,
                just_expired=expired > 0,
                file_ids=body.file_ids,
            )
        return await submission_body(context, row)

    return await write(request, "submitAssessment", work, body=body.model_dump(mode="json"), status=201)
