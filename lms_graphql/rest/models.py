"""The REST bodies, typed (the OpenAPI document is generated from them): camelCase on the wire,
as GraphQL writes its fields."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel

# Written as GraphQL writes them (isoformat: +00:00, not Z), so both transports agree.
Timestamp = Annotated[datetime, PlainSerializer(lambda value: value.isoformat(), return_type=str, when_used="json")]


class Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class CourseStatus(StrEnum):
    draft = "DRAFT"
    published = "PUBLISHED"
    archived = "ARCHIVED"


class Course(Body):
    id: uuid.UUID
    title: str
    slug: str
    description: str | None
    status: CourseStatus
    max_enrollment: int | None
    published_at: Timestamp | None
    created_at: Timestamp
    instructor_id: uuid.UUID

    @classmethod
    def of(cls, row: Any) -> Course:
        return cls(
            id=row.id,
            title=row.title,
            slug=row.slug,
            description=row.description,
            status=CourseStatus(row.status.upper()),
            max_enrollment=row.max_enrollment,
            published_at=row.published_at,
            created_at=row.created_at,
            instructor_id=row.instructor_id,
        )


class CoursePage(Body):
    items: list[Course]
    next_cursor: str | None
