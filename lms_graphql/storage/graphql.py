"""Uploading content: a ticket, the client's direct upload, a confirmation the server checks."""

from __future__ import annotations

from typing import Annotated

import strawberry

from lms_graphql.assessments import submission_files
from lms_graphql.auth.permissions import Permission
from lms_graphql.context import Info
from lms_graphql.courses.types import Lesson, lessons_for
from lms_graphql.kit.graphql import require_id
from lms_graphql.storage import service
from lms_graphql.storage.types import StoredFile, UploadTicket

ContentType = Annotated[
    str, strawberry.argument(description="The file's media type, one of those the server accepts for it.")
]
SizeBytes = Annotated[int, strawberry.argument(description="The file's exact size in bytes.")]
FileId = Annotated[strawberry.ID, strawberry.argument(description="The fileId of the upload ticket.")]
CONFIRM_ERRORS = (
    "NOT_FOUND when the file is unknown or not your upload; BAD_USER_INPUT when nothing was uploaded, when its size "
    "is not the announced one, or when its first bytes are not of its contentType (the upload is removed: ask for a "
    "new ticket), or when it is confirmed already"
)


@strawberry.type
class StorageMutations:
    @strawberry.mutation(
        description="For the course's instructor and admins: a ticket to upload a lesson's content (video/mp4, "
        "video/webm, video/quicktime, application/pdf, image/png, image/jpeg, image/webp, text/plain, text/markdown; "
        "at most 2 000 000 000 bytes). Errors: NOT_FOUND when the lesson is unknown or hidden from you; FORBIDDEN "
        "when you may not edit its course; BAD_USER_INPUT for another type or size."
    )
    async def request_lesson_upload(
        self,
        info: Info,
        lesson_id: Annotated[strawberry.ID, strawberry.argument(description="The lesson the content is for.")],
        content_type: ContentType,
        size_bytes: SizeBytes,
    ) -> UploadTicket:
        ctx = info.context
        viewer = ctx.require_viewer()
        key = require_id(lesson_id, "lesson")
        async with ctx.write() as session:
            ticket = await service.request_lesson_upload(
                session, ctx.tenant, viewer, ctx.services.storage, key, content_type, size_bytes
            )
        return UploadTicket.of(ctx, ticket)

    @strawberry.mutation(
        description="The uploaded file becomes the lesson's content (contentUrl), replacing what was uploaded "
        "before; a video goes through the pipeline (Lesson.media: PROCESSING, then READY or FAILED, and a "
        f"notification to the course's instructor). Errors: {CONFIRM_ERRORS}; FORBIDDEN when you may no longer "
        "edit the course."
    )
    async def confirm_lesson_upload(self, info: Info, file_id: FileId) -> Lesson:
        ctx = info.context
        viewer = ctx.require_viewer()
        key = require_id(file_id, "file")
        async with ctx.write() as session:
            file = await service.confirm_lesson_upload(session, ctx.tenant, viewer, ctx.services.storage, key)
        assert file.lesson_id is not None
        (lesson,) = await lessons_for(ctx, [await ctx.loaders.lesson.load(file.lesson_id)])
        return lesson

    @strawberry.mutation(
        description="For a learner enrolled in the assessment's course: a ticket to upload a file to submit "
        "(application/pdf, image/png, image/jpeg, image/webp, text/plain, text/markdown, application/zip, .docx; at "
        "most 50 000 000 bytes). Confirm it, then pass its id in submitAssessment's fileIds. Errors: NOT_FOUND when "
        "the assessment is unknown or hidden from you; FORBIDDEN when not enrolled; BAD_USER_INPUT for another type "
        "or size."
    )
    async def request_submission_upload(
        self,
        info: Info,
        assessment_id: Annotated[strawberry.ID, strawberry.argument(description="The assessment to submit it to.")],
        content_type: ContentType,
        size_bytes: SizeBytes,
    ) -> UploadTicket:
        ctx = info.context
        viewer = ctx.require(Permission.SUBMISSION_SUBMIT)
        key = require_id(assessment_id, "assessment")
        async with ctx.write() as session:
            ticket = await submission_files.request_submission_upload(
                session, ctx.tenant, viewer, ctx.services.storage, key, content_type, size_bytes
            )
        return UploadTicket.of(ctx, ticket)

    @strawberry.mutation(
        description=f"Confirms a file uploaded for a submission: it can be submitted then. Errors: {CONFIRM_ERRORS}."
    )
    async def confirm_submission_upload(self, info: Info, file_id: FileId) -> StoredFile:
        ctx = info.context
        viewer = ctx.require(Permission.SUBMISSION_SUBMIT)
        key = require_id(file_id, "file")
        async with ctx.write() as session:
            file = await submission_files.confirm_submission_upload(
                session, ctx.tenant, viewer, ctx.services.storage, key
            )
        return StoredFile.from_row(file)
