"""Uploads and downloads: a presigned upload for an object whose key the server builds, a check
of what arrived before anything refers to it, signed downloads for those who may see it.

An upload goes to a staging key beside its final one; confirming checks the object (size, type
by its first bytes) and moves it to the final key, so a ticket still valid afterwards cannot
replace checked content. Objects are removed by jobs deferred in the transaction that stops
referring to them (jobs/tasks.py), never before that transaction commits."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql import models
from lms_graphql.auth.viewer import Viewer
from lms_graphql.courses import access
from lms_graphql.courses.repository import CourseRepository
from lms_graphql.errors import ErrorCode, LmsError, bad_input, not_found
from lms_graphql.kit.deferral import defer_job
from lms_graphql.storage import keys, sniffing
from lms_graphql.storage.backends import Storage, UploadTarget
from lms_graphql.storage.repository import FileRepository, MediaRepository
from lms_graphql.tenancy.tenant import TenantConfig

UPLOAD_SECONDS = 3600
DOWNLOAD_SECONDS = 3600
# GraphQL's Int is 32 bits: sizes stay below 2^31.
MAX_BYTES = {"lesson": 2_000_000_000, "submission": 50_000_000, "branding": 2_000_000}
MAX_PENDING = 20  # unconfirmed, unexpired tickets per user
PENDING_KEPT = timedelta(days=1)  # an expired, unconfirmed upload is swept after this
VIDEO = frozenset({"video/mp4", "video/webm", "video/quicktime"})
DOCUMENTS = frozenset({"application/pdf", "image/png", "image/jpeg", "image/webp", "text/plain", "text/markdown"})
ALLOWED = {
    "lesson": VIDEO | DOCUMENTS,
    "submission": DOCUMENTS | sniffing.ZIP_BASED,
    "branding": frozenset({"image/png", "image/jpeg", "image/webp"}),
}
DELETE_TASK, DELETE_QUEUE = "storage.delete", "storage"
TRANSCODE_TASK, TRANSCODE_QUEUE = "media.transcode", "media"
FILE_NOT_FOUND = "file not found"


@dataclass(frozen=True)
class Ticket:
    file: models.StoredFile
    target: UploadTarget
    max_bytes: int


async def limit_pending(session: AsyncSession, tenant_id: uuid.UUID, viewer: Viewer) -> None:
    """A user may hold at most MAX_PENDING unconfirmed tickets that have not expired."""
    if await FileRepository(session, tenant_id).pending_of(viewer.id, datetime.now(UTC)) >= MAX_PENDING:
        raise LmsError(
            ErrorCode.RATE_LIMITED,
            f"you have {MAX_PENDING} unconfirmed uploads: confirm them, or wait an hour for them to expire",
            retryable=True,
            retryAfter=60,
        )


def staging_key(final_key: str) -> str:
    return f"{final_key}.upload"


def checked_kind(purpose: str, content_type: str, size: int) -> str:
    kind = content_type.split(";")[0].strip().lower()
    if kind not in ALLOWED[purpose]:
        raise bad_input(f"contentType must be one of {', '.join(sorted(ALLOWED[purpose]))}")
    if not 0 < size <= MAX_BYTES[purpose]:
        raise bad_input(f"sizeBytes must be 1 to {MAX_BYTES[purpose]}")
    return kind


async def issue_ticket(
    session: AsyncSession,
    storage: Storage,
    tenant_id: uuid.UUID,
    viewer: Viewer,
    purpose: str,
    content_type: str,
    size: int,
    key_of: Callable[[uuid.UUID, str], str],
    **owner: uuid.UUID,
) -> Ticket:
    """A pending file of an allowed type and size, its key built by ``key_of`` (from the new
    file's id and its kind), owned by ``owner`` (lesson_id or assessment_id), and where to upload it."""
    kind = checked_kind(purpose, content_type, size)
    await limit_pending(session, tenant_id, viewer)
    file_id = uuid.uuid4()
    file = models.StoredFile(
        tenant_id=tenant_id,
        id=file_id,
        purpose=purpose,
        object_key=key_of(file_id, kind),
        content_type=kind,
        declared_bytes=size,
        uploaded_by=viewer.id,
        upload_expires_at=datetime.now(UTC) + timedelta(seconds=UPLOAD_SECONDS),
        **owner,
    )
    await FileRepository(session, tenant_id).add(file)
    target = storage.store.upload_target(staging_key(file.object_key), kind, size, UPLOAD_SECONDS)
    return Ticket(file, target, MAX_BYTES[purpose])


async def _editable_lesson(
    session: AsyncSession, tenant: TenantConfig, viewer: Viewer, lesson_id: uuid.UUID, *, lock: bool = False
) -> Any:
    """The lesson if the viewer may edit its course; ``lock``: the course and then the lesson
    held (the order of authoring/service.py), and the lesson read again once held."""
    courses = CourseRepository(session, tenant.id)
    lessons = await courses.lessons_by_ids([lesson_id])
    course = (await courses.by_ids([lessons[0].course_id]))[0] if lessons else None
    if course is None or not access.can_see(viewer, course):
        raise not_found("lesson not found")
    access.require_edit(viewer, course)
    if lock:
        await courses.lock(course.id)
        await FileRepository(session, tenant.id).hold_lesson(lesson_id)
        lessons = await courses.lessons_by_ids([lesson_id])
    if not lessons or lessons[0].archived_at is not None:
        raise not_found("lesson not found")
    return lessons[0]


async def request_lesson_upload(
    session: AsyncSession,
    tenant: TenantConfig,
    viewer: Viewer,
    storage: Storage,
    lesson_id: uuid.UUID,
    content_type: str,
    size: int,
) -> Ticket:
    """For the course's editors: where to upload the lesson's content."""
    lesson = await _editable_lesson(session, tenant, viewer, lesson_id)

    def key_of(file_id: uuid.UUID, kind: str) -> str:
        return keys.lesson_file(tenant.id, lesson.course_id, lesson.id, file_id, kind)

    return await issue_ticket(
        session, storage, tenant.id, viewer, "lesson", content_type, size, key_of, lesson_id=lesson.id
    )


async def checked_upload(storage: Storage, file: models.StoredFile) -> int:
    """The uploaded object's size, once it proved to be what the ticket said. It is moved to
    its final key first, where the ticket cannot write, and checked there: what is checked is
    what stays. A refusal removes it: the client may ask for a new ticket."""
    store, staged, final = storage.store, staging_key(file.object_key), file.object_key
    if await store.size_of(staged) is not None:
        await store.move(staged, final)
    size = await store.size_of(final)  # also there when a confirmation's commit failed after the move
    if size is None:
        raise bad_input("nothing was uploaded for this file yet (upload it, then confirm)")
    if size != file.declared_bytes:
        await store.delete(final)
        raise bad_input(f"the upload has {size} bytes, {file.declared_bytes} were announced: upload it again")
    if not sniffing.matches(file.content_type, await store.first_bytes(final, sniffing.SAMPLE_BYTES)):
        await store.delete(final)
        raise bad_input(f"the uploaded file is not {file.content_type}: upload it again")
    return size


async def pending_upload(
    session: AsyncSession,
    tenant: TenantConfig,
    viewer: Viewer,
    file_id: uuid.UUID,
    purpose: str,
    owner: uuid.UUID | None = None,
) -> models.StoredFile:
    """The viewer's upload, unconfirmed; ``owner``: the lesson or assessment it must be for."""
    file = await FileRepository(session, tenant.id).locked(file_id)
    if file is None or file.purpose != purpose or file.uploaded_by != viewer.id:
        raise not_found(FILE_NOT_FOUND)
    if owner is not None and owner not in (file.lesson_id, file.assessment_id):
        raise not_found(FILE_NOT_FOUND)
    if file.status != "pending":
        raise bad_input("this file is confirmed already")
    return file


async def confirm_lesson_upload(
    session: AsyncSession,
    tenant: TenantConfig,
    viewer: Viewer,
    storage: Storage,
    file_id: uuid.UUID,
    lesson_id: uuid.UUID | None = None,
) -> models.StoredFile:
    """The uploaded file becomes the lesson's content (replacing what was there); a video is
    queued for transcoding (media.transcode, in this transaction). Locks in the order content
    edits take them (course, lesson, then the file), so a lesson deleted meanwhile waits or wins."""
    files = FileRepository(session, tenant.id)
    found = await files.by_id(file_id)
    if found is None or found.lesson_id is None:
        raise not_found(FILE_NOT_FOUND)
    lesson = await _editable_lesson(session, tenant, viewer, found.lesson_id, lock=True)
    file = await pending_upload(session, tenant, viewer, file_id, "lesson", lesson_id)
    size = await checked_upload(storage, file)
    previous = await files.lesson_content(lesson.id)
    if previous is not None:
        await forget_files(session, tenant.id, [previous])
    file.status, file.size_bytes, file.confirmed_at = "ready", size, datetime.now(UTC)
    await session.flush()
    if file.content_type in VIDEO:
        await MediaRepository(session, tenant.id).add(
            models.LessonMedia(tenant_id=tenant.id, id=file.id, lesson_id=lesson.id)
        )
        args = {"tenant_id": str(tenant.id), "file_id": str(file.id)}
        await defer_job(session, TRANSCODE_TASK, args, queue=TRANSCODE_QUEUE, lock=f"media:{file.id}")
    return file


async def forget_files(session: AsyncSession, tenant_id: uuid.UUID, files: Sequence[models.StoredFile]) -> None:
    """Remove the files' rows now and their objects (and a video's renditions) once this
    transaction commits."""
    if not files:
        return
    object_keys: list[str] = []
    prefixes: list[str] = []
    for file in files:
        object_keys += [file.object_key, staging_key(file.object_key)]
        if file.content_type in VIDEO:
            prefixes.append(keys.media_beside(file.object_key, file.id))
    await FileRepository(session, tenant_id).remove([file.id for file in files])
    await defer_deletion(session, tenant_id, object_keys=object_keys, prefixes=prefixes)


async def forget_lessons(
    session: AsyncSession, tenant_id: uuid.UUID, course_id: uuid.UUID, lessons: Sequence[uuid.UUID]
) -> None:
    """Removed lessons: their files' rows, and everything under their prefixes once committed."""
    if not lessons:
        return
    files = FileRepository(session, tenant_id)
    await files.remove([file.id for file in await files.of_lessons(lessons)])
    prefixes = [keys.lesson_prefix(tenant_id, course_id, lesson_id) for lesson_id in lessons]
    await defer_deletion(session, tenant_id, prefixes=prefixes)


async def defer_deletion(
    session: AsyncSession, tenant_id: uuid.UUID, *, object_keys: Sequence[str] = (), prefixes: Sequence[str] = ()
) -> None:
    mine = keys.tenant_prefix(tenant_id)
    if any(not key.startswith(mine) for key in [*object_keys, *prefixes]):
        raise ValueError("a tenant's deletion names only its own objects")
    args = {"tenant_id": str(tenant_id), "keys": list(object_keys), "prefixes": list(prefixes)}
    await defer_job(session, DELETE_TASK, args, queue=DELETE_QUEUE)


async def sweep_abandoned_uploads(session: AsyncSession, tenant_id: uuid.UUID, now: datetime) -> int:
    """Unconfirmed uploads whose ticket expired a day ago: their rows now, objects once committed."""
    files = await FileRepository(session, tenant_id).abandoned(now - PENDING_KEPT)
    await forget_files(session, tenant_id, files)
    return len(files)


def download_url(storage: Storage, key: str) -> str:
    """A signed URL for the object, valid an hour; playlists are served (rewritten) by the app."""
    if key.endswith(".m3u8"):
        return storage.signer.url("GET", key, DOWNLOAD_SECONDS)
    return storage.store.download_url(key, DOWNLOAD_SECONDS)
