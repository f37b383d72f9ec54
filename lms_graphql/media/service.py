"""The media.transcode job's work: bound to the tenant like a request, the database touched only
before and after FFmpeg runs (no transaction is held open while it does)."""

from __future__ import annotations

import logging
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql.courses.repository import CourseRepository
from lms_graphql.events.publish import Notice, record_event
from lms_graphql.kit.db import Database
from lms_graphql.media import transcode
from lms_graphql.storage import keys
from lms_graphql.storage.backends import Storage, content_type_of
from lms_graphql.storage.repository import FileRepository, MediaRepository
from lms_graphql.storage.service import defer_deletion

log = logging.getLogger("lms_graphql.media")
ERROR_CHARACTERS = 1_000


@dataclass(frozen=True)
class Source:
    object_key: str
    lesson_id: uuid.UUID


async def transcode_lesson_video(
    db: Database, storage: Storage, tenant_id: uuid.UUID, file_id: uuid.UUID, *, last_attempt: bool
) -> None:
    """Make the file's HLS renditions, playlist and thumbnail; the media row says READY, or
    FAILED with the reason once retrying cannot help (``last_attempt``, or not a video). Other
    failures are raised: the queue retries them with backoff."""
    source = await _start(db, tenant_id, file_id)
    if source is None:
        return  # replaced or removed since: nothing to make
    prefix = keys.media_beside(source.object_key, file_id)
    try:
        with tempfile.TemporaryDirectory(prefix="lms-media-") as work:
            folder = Path(work)
            video = folder / "source"
            await storage.store.get_file(source.object_key, video)
            made = await transcode.make_hls(video, folder / "out")
            for path in sorted((folder / "out").rglob("*")):
                if path.is_file():
                    key = prefix + path.relative_to(folder / "out").as_posix()
                    await storage.store.put_file(key, path, content_type_of(key))
    except Exception as error:
        permanent = isinstance(error, transcode.MediaError) and error.permanent
        if not (permanent or last_attempt):
            log.warning("transcoding file %s of tenant %s failed, will retry: %s", file_id, tenant_id, error)
            raise
        log.warning("transcoding file %s of tenant %s failed for good: %s", file_id, tenant_id, error)
        await _finish(db, tenant_id, file_id, prefix, None, str(error)[:ERROR_CHARACTERS] or type(error).__name__)
        return
    await _finish(db, tenant_id, file_id, prefix, made, None)


async def _start(db: Database, tenant_id: uuid.UUID, file_id: uuid.UUID) -> Source | None:
    async with db.tenant_transaction(tenant_id) as session:
        media = await MediaRepository(session, tenant_id).locked(file_id)
        file = await FileRepository(session, tenant_id).locked(file_id)
        if media is None or file is None or media.status == "ready":
            return None
        media.status, media.attempts, media.error = "processing", media.attempts + 1, None
        assert file.lesson_id is not None
        return Source(file.object_key, file.lesson_id)


async def _finish(
    db: Database,
    tenant_id: uuid.UUID,
    file_id: uuid.UUID,
    prefix: str,
    made: transcode.Made | None,
    error: str | None,
) -> None:
    async with db.tenant_transaction(tenant_id) as session:
        media = await MediaRepository(session, tenant_id).locked(file_id)
        if media is None:  # the content was replaced while FFmpeg ran: what it made goes too
            await defer_deletion(session, tenant_id, prefixes=[prefix])
            return
        media.updated_at = datetime.now(UTC)
        if made is None:
            media.status, media.error = "failed", error
        else:
            media.status, media.error = "ready", None
            media.duration_seconds = Decimal(str(round(made.probe.duration, 3)))
            media.width, media.height = made.probe.width, made.probe.height
            media.renditions = made.renditions
            media.playlist_key = prefix + transcode.MASTER
            media.thumbnail_key = prefix + transcode.THUMBNAIL
        await session.flush()
        await _tell_instructor(session, tenant_id, media)


async def _tell_instructor(session: AsyncSession, tenant_id: uuid.UUID, media: Any) -> None:
    courses = CourseRepository(session, tenant_id)
    (lesson,) = await courses.lessons_by_ids([media.lesson_id])
    (course,) = await courses.by_ids([lesson.course_id])
    ready = media.status == "ready"
    payload = {
        "courseId": str(course.id),
        "lessonId": str(lesson.id),
        "fileId": str(media.id),
        "status": media.status.upper(),
        "durationSeconds": float(media.duration_seconds) if media.duration_seconds is not None else None,
        "error": media.error,
    }
    title = f"The video of {lesson.title} is ready" if ready else f"The video of {lesson.title} could not be processed"
    await record_event(
        session,
        tenant_id=tenant_id,
        event_type="lesson.media_ready" if ready else "lesson.media_failed",
        user_id=None,
        payload=payload,
        course_id=course.id,
        notice=Notice(title=title, body=None if ready else media.error, recipients=(course.instructor_id,)),
    )
