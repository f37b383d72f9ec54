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


@strawberry.enum(description="Where a student's enrollment in a course stands.")
class EnrollmentStatus(Enum):
    _value_: str  # for mypy: @strawberry.enum unwraps each enum_value, so members hold the string
    ACTIVE = strawberry.enum_value("active", description="Enrolled and learning.")
    COMPLETED = strawberry.enum_value(
        "completed", description="Every lesson completed. Stays completed when lessons are added later."
    )
    DROPPED = strawberry.enum_value(
        "dropped", description="No longer enrolled: the content, progress and assessments are closed to the student."
    )


@strawberry.enum(description="Where a learner stands on one lesson.")
class ProgressStatus(Enum):
    _value_: str  # for mypy: @strawberry.enum unwraps each enum_value, so members hold the string
    NOT_STARTED = strawberry.enum_value("not_started", description="No progress yet (0).")
    IN_PROGRESS = strawberry.enum_value("in_progress", description="Started: progress 1-99.")
    COMPLETED = strawberry.enum_value("completed", description="Done: progress reached 100.")


@strawberry.type(
    description="A student's place in a course: visible to the student, and to the course's instructor and admins."
)
class Enrollment:
    id: strawberry.ID = strawberry.field(description="Opaque id of the enrollment.")
    status: EnrollmentStatus = strawberry.field(description="ACTIVE, COMPLETED or DROPPED.")
    enrolled_at: datetime = strawberry.field(description="When the student enrolled (UTC).")
    completed_at: datetime | None = strawberry.field(
        description="When the student completed the course's last lesson; null until then."
    )
    progress_percent: float = strawberry.field(
        description="Completed lessons / all lessons of the course, as a percent 0-100 (2 decimals)."
    )
    dropped_at: datetime | None = strawberry.field(
        description="When the student left the course or was removed from it (DROPPED); null otherwise."
    )
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
            dropped_at=row.dropped_at,
            user_id=row.user_id,
            course_id=row.course_id,
        )

    @strawberry.field(description="The student.")
    async def user(self, info: Info) -> User:
        return User.from_row(await info.context.loaders.user.load(self.user_id))

    @strawberry.field(description="The course.")
    async def course(self, info: Info) -> Course:
        return Course.from_row(await info.context.loaders.course.load(self.course_id))


@strawberry.type(description="A learner's progress on one lesson: only the learner's own is shown.")
class LessonProgress:
    id: strawberry.ID = strawberry.field(description="Opaque id of the progress record.")
    status: ProgressStatus = strawberry.field(description="NOT_STARTED, IN_PROGRESS or COMPLETED.")
    progress_pct: int = strawberry.field(description="How much of the lesson is done, 0-100; it never decreases.")
    started_at: datetime | None = strawberry.field(description="When progress first went above 0; null before.")
    completed_at: datetime | None = strawberry.field(description="When progress reached 100; null before.")
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

    @strawberry.field(description="The lesson.")
    async def lesson(self, info: Info) -> Lesson:
        (lesson,) = await lessons_for(info.context, [await info.context.loaders.lesson.load(self.lesson_id)])
        return lesson

    @strawberry.field(description="The learner.")
    async def user(self, info: Info) -> User:
        return User.from_row(await info.context.loaders.user.load(self.user_id))
