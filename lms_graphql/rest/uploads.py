"""REST: uploading a lesson's content and a submission's files (a ticket, the client's direct
upload, a confirmation the server checks), by the services the GraphQL mutations use."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from lms_graphql.assessments import submission_files
from lms_graphql.auth.permissions import Permission
from lms_graphql.context import Context
from lms_graphql.rest import models
from lms_graphql.rest.writes import write
from lms_graphql.storage import service
from lms_graphql.storage.service import Ticket
from lms_graphql.storage.types import public_url, signed_url

router = APIRouter(tags=["content"])


def ticket_body(context: Context, ticket: Ticket) -> models.UploadTicket:
    return models.UploadTicket(
        file_id=ticket.file.id,
        url=public_url(context.request, ticket.target.url),
        method=ticket.target.method,
        headers=ticket.target.headers,
        expires_at=ticket.file.upload_expires_at,
        max_bytes=ticket.max_bytes,
    )


def stored_file(context: Context, row: Any) -> models.StoredFile:
    return models.StoredFile(
        id=row.id,
        content_type=row.content_type,
        size_bytes=row.size_bytes,
        created_at=row.created_at,
        url=signed_url(context, row.object_key) if row.status == "ready" else None,
    )


async def submission_body(context: Context, row: Any) -> models.Submission:
    files = await context.loaders.submission_files.load(row.id)
    return models.Submission.of(row, [stored_file(context, file) for file in files])


def lesson_media(context: Context, row: Any) -> models.LessonMedia:
    return models.LessonMedia(
        status=row.status.upper(),
        duration_seconds=float(row.duration_seconds) if row.duration_seconds is not None else None,
        width=row.width,
        height=row.height,
        renditions=[
            models.MediaRendition(**{k: r[k] for k in ("name", "width", "height", "bandwidth")}) for r in row.renditions
        ],
        error=row.error,
        attempts=row.attempts,
        updated_at=row.updated_at,
        playlist_url=signed_url(context, row.playlist_key) if row.playlist_key else None,
        thumbnail_url=signed_url(context, row.thumbnail_key) if row.thumbnail_key else None,
    )


@router.post(
    "/lessons/{lesson_id}/uploads",
    response_model=models.UploadTicket,
    status_code=201,
    summary="A ticket to upload a lesson's content (its instructor and admins)",
    description="As requestLessonUpload: video/mp4, video/webm, video/quicktime, application/pdf, image/png, "
    "image/jpeg, image/webp, text/plain or text/markdown, at most 2 000 000 000 bytes. Send the bytes as the ticket "
    "says within the hour, then confirm.",
)
async def request_lesson_upload(request: Request, lesson_id: uuid.UUID, body: models.UploadIn) -> Response:
    async def work(context: Context) -> models.UploadTicket:
        viewer = context.require_viewer()
        async with context.write() as session:
            ticket = await service.request_lesson_upload(
                session, context.tenant, viewer, context.services.storage, lesson_id, body.content_type, body.size_bytes
            )
        return ticket_body(context, ticket)

    return await write(request, "requestLessonUpload", work, body=body.model_dump(mode="json"), status=201)


@router.post(
    "/lessons/{lesson_id}/uploads/{file_id}/confirm",
    response_model=models.StoredFile,
    summary="Make the uploaded file the lesson's content, once the server checked it",
    description="As confirmLessonUpload: the size must be the announced one and the first bytes of the announced "
    "type (else 400, the upload removed); a video goes through the pipeline (the lesson's media).",
)
async def confirm_lesson_upload(request: Request, lesson_id: uuid.UUID, file_id: uuid.UUID) -> Response:
    async def work(context: Context) -> models.StoredFile:
        viewer = context.require_viewer()
        async with context.write() as session:
            file = await service.confirm_lesson_upload(
                session, context.tenant, viewer, context.services.storage, file_id, lesson_id
            )
        return stored_file(context, file)

    return await write(request, "confirmLessonUpload", work)


@router.post(
    "/assessments/{assessment_id}/uploads",
    response_model=models.UploadTicket,
    status_code=201,
    tags=["assessments"],
    summary="A ticket to upload a file to hand in (learners enrolled in its course)",
    description="As requestSubmissionUpload: PDF, PNG, JPEG, WebP, text, Markdown, zip or .docx, at most "
    "50 000 000 bytes. Confirm it, then name it in the submission's fileIds.",
)
async def request_submission_upload(request: Request, assessment_id: uuid.UUID, body: models.UploadIn) -> Response:
    async def work(context: Context) -> models.UploadTicket:
        viewer = context.require(Permission.SUBMISSION_SUBMIT)
        async with context.write() as session:
            ticket = await submission_files.request_submission_upload(
                session,
                context.tenant,
                viewer,
                context.services.storage,
                assessment_id,
                body.content_type,
                body.size_bytes,
            )
        return ticket_body(context, ticket)

    return await write(request, "requestSubmissionUpload", work, body=body.model_dump(mode="json"), status=201)


@router.post(
    "/assessments/{assessment_id}/uploads/{file_id}/confirm",
    response_model=models.StoredFile,
    tags=["assessments"],
    summary="Confirm a file uploaded to hand in, once the server checked it",
)
async def confirm_submission_upload(request: Request, assessment_id: uuid.UUID, file_id: uuid.UUID) -> Response:
    async def work(context: Context) -> models.StoredFile:
        viewer = context.require(Permission.SUBMISSION_SUBMIT)
        async with context.write() as session:
            file = await submission_files.confirm_submission_upload(
                session, context.tenant, viewer, context.services.storage, file_id, assessment_id
            )
        return stored_file(context, file)

    return await write(request, "confirmSubmissionUpload", work)
