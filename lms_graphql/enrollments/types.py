"""GraphQL types of enrollment and progress."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from lms_graphql.context import Info
from lms_graphql.courses.types import Course, Lesson, lessons_for
from lms_graphql.users.graphql import User


@strawberry.enum
class EnrollmentStatus(Enum):
    ACTIVE = "active"
    COMPLETED = "completed"
    DROPPED = "dropped"


@strawberry.enum
class ProgressStatus(Enum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


@strawberry.type
class Enrollment:
    id: strawberry.ID
    status: EnrollmentStatus
    enrolled_at: datetime
    completed_at: datetime | None
    progress_percent: float = strawberry.field(description="0-100: completed lessons / all lessons of the course.")
    user_id: strawberry.Private[uuid.UUID]
    course_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: Any) -> Enrollment:
        return cls(
            id=strawberry.ID(str(row.id)),
            status=EnrollmentStatus(row.status),
            enrolled_at=row.enrolled_at,
            completed_at=row.completed_at,
            progress_percent=float(row.progress_pct),
            user_id=row.user_id,
            course_id=row.course_id,
        )

    @strawberry.field
    async def user(self, info: Info) -> User:
        return User.from_row(await info.context.loaders.user.load(self.user_id))

    @strawberry.field
    async def course(self, info: Info) -> Course:
        return Course.from_row(await info.context.loaders.course.load(self.course_id))


@strawberry.type
class LessonProgress:
    id: strawberry.ID
    status: ProgressStatus
    progress_pct: int
    started_at: datetime | None
    completed_at: datetime | None
    user_id: strawberry.Private[uuid.UUID]
    lesson_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: Any) -> LessonProgress:
        return cls(
            id=strawberry.ID(str(row.id)),
            status=ProgressStatus(row.status),
            progress_pct=row.progress_pct,
            started_at=row.started_at,
            completed_at=row.completed_at,
            user_id=row.user_id,
            lesson_id=row.lesson_id,
        )

    @strawberry.field
    async def lesson(self, info: Info) -> Lesson:
        (lesson,) = await lessons_for(info.context, [await info.context.loaders.lesson.load(self.lesson_id)])
        return lesson

    @strawberry.field
    async def user(self, info: Info) -> User:
        return User.from_row(await info.context.loaders.user.load(self.user_id))
