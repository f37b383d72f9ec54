"""Stored files and lesson media rows (RLS: the tenant's own)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, select, update

from lms_graphql import models
from lms_graphql.kit.repository import TenantScopedRepository
from lms_graphql.models.tables import LESSON_MEDIA, LESSONS, STORED_FILES

FILES = STORED_FILES
MEDIA = LESSON_MEDIA


class FileRepository(TenantScopedRepository):
    async def add(self, file: models.StoredFile) -> models.StoredFile:
        self.session.add(file)
        await self.session.flush()
        return file

    async def by_id(self, file_id: uuid.UUID) -> models.StoredFile | None:
        statement = select(models.StoredFile).where(self.in_tenant(models.StoredFile), models.StoredFile.id == file_id)
        file: models.StoredFile | None = (await self.session.execute(statement)).scalar_one_or_none()
        return file

    async def pending_of(self, user_id: uuid.UUID, now: datetime) -> int:
        statement = select(func.count()).where(
            self.in_tenant(FILES),
            FILES.c.uploaded_by == user_id,
            FILES.c.status == "pending",
            FILES.c.upload_expires_at > now,
        )
        return int((await self.session.execute(statement)).scalar_one())

    async def abandoned(self, expired_before: datetime) -> list[models.StoredFile]:
        statement = select(models.StoredFile).where(
            self.in_tenant(models.StoredFile),
            models.StoredFile.status == "pending",
            models.StoredFile.upload_expires_at < expired_before,
        )
        return list((await self.session.execute(statement)).scalars())

    async def of_assessment(self, assessment_id: uuid.UUID) -> list[models.StoredFile]:
        statement = select(models.StoredFile).where(
            self.in_tenant(models.StoredFile), models.StoredFile.assessment_id == assessment_id
        )
        return list((await self.session.execute(statement)).scalars())

    async def locked(self, file_id: uuid.UUID) -> models.StoredFile | None:
        statement = (
            select(models.StoredFile)
            .where(self.in_tenant(models.StoredFile), models.StoredFile.id == file_id)
            .with_for_update()
        )
        file: models.StoredFile | None = (await self.session.execute(statement)).scalar_one_or_none()
        return file

    async def hold_lesson(self, lesson_id: uuid.UUID) -> None:
        """Confirmations of the lesson's content take turns (NO KEY UPDATE: learners' progress,
        which key-share locks the lesson, is not held up)."""
        # key_share without read: PostgreSQL's FOR NO KEY UPDATE.
        statement = (
            select(LESSONS.c.id)
            .where(self.in_tenant(LESSONS), LESSONS.c.id == lesson_id)
            .with_for_update(key_share=True)
        )
        await self.session.execute(statement)

    async def lesson_content(self, lesson_id: uuid.UUID) -> models.StoredFile | None:
        """The lesson's ready content file, locked (a replacement waits for this one)."""
        statement = (
            select(models.StoredFile)
            .where(
                self.in_tenant(models.StoredFile),
                models.StoredFile.lesson_id == lesson_id,
                models.StoredFile.purpose == "lesson",
                models.StoredFile.status == "ready",
            )
            .with_for_update()
        )
        file: models.StoredFile | None = (await self.session.execute(statement)).scalar_one_or_none()
        return file

    async def contents_of_lessons(self, lesson_ids: Sequence[uuid.UUID]) -> list[Row[Any]]:
        statement = select(FILES).where(
            self.in_tenant(FILES),
            FILES.c.lesson_id.in_(lesson_ids),
            FILES.c.purpose == "lesson",
            FILES.c.status == "ready",
        )
        return list((await self.session.execute(statement)).all())

    async def of_submissions(self, submission_ids: Sequence[uuid.UUID]) -> list[Row[Any]]:
        statement = (
            select(FILES)
            .where(self.in_tenant(FILES), FILES.c.submission_id.in_(submission_ids))
            .order_by(FILES.c.submission_id, FILES.c.created_at, FILES.c.id)
        )
        return list((await self.session.execute(statement)).all())

    async def attach(self, file_ids: Sequence[uuid.UUID], submission_id: uuid.UUID) -> None:
        statement = (
            update(FILES).where(self.in_tenant(FILES), FILES.c.id.in_(file_ids)).values(submission_id=submission_id)
        )
        await self.session.execute(statement)

    async def of_lessons(self, lesson_ids: Sequence[uuid.UUID]) -> list[models.StoredFile]:
        """Every file of the lessons, pending or ready."""
        statement = select(models.StoredFile).where(
            self.in_tenant(models.StoredFile), models.StoredFile.lesson_id.in_(lesson_ids)
        )
        return list((await self.session.execute(statement)).scalars())

    async def branding_except(self, file_id: uuid.UUID) -> list[models.StoredFile]:
        """The tenant's confirmed branding files but ``file_id``: the logos it replaces."""
        statement = select(models.StoredFile).where(
            self.in_tenant(models.StoredFile),
            models.StoredFile.purpose == "branding",
            models.StoredFile.status == "ready",
            models.StoredFile.id != file_id,
        )
        return list((await self.session.execute(statement)).scalars())

    async def remove_all(self) -> None:
        await self.session.execute(delete(FILES).where(self.in_tenant(FILES)))

    async def remove(self, file_ids: Sequence[uuid.UUID]) -> None:
        statement = delete(FILES).where(self.in_tenant(FILES), FILES.c.id.in_(file_ids))
        await self.session.execute(statement)


class MediaRepository(TenantScopedRepository):
    async def add(self, media: models.LessonMedia) -> None:
        self.session.add(media)
        await self.session.flush()

    async def locked(self, media_id: uuid.UUID) -> models.LessonMedia | None:
        statement = (
            select(models.LessonMedia)
            .where(self.in_tenant(models.LessonMedia), models.LessonMedia.id == media_id)
            .with_for_update()
        )
        media: models.LessonMedia | None = (await self.session.execute(statement)).scalar_one_or_none()
        return media

    async def by_ids(self, media_ids: Sequence[uuid.UUID]) -> list[Row[Any]]:
        statement = select(MEDIA).where(self.in_tenant(MEDIA), MEDIA.c.id.in_(media_ids))
        return list((await self.session.execute(statement)).all())

    async def touch(self, media_id: uuid.UUID, at: datetime) -> None:
        statement = update(MEDIA).where(self.in_tenant(MEDIA), MEDIA.c.id == media_id).values(updated_at=at)
        await self.session.execute(statement)
