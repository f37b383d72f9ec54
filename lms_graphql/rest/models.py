"""The REST bodies, typed (the OpenAPI document is generated from them): camelCase on the wire,
as GraphQL writes its fields."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel

# Written as GraphQL writes them (isoformat: +00:00, not Z), so both transports agree.
Timestamp = Annotated[datetime, PlainSerializer(lambda value: value.isoformat(), return_type=str, when_used="json")]


class Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class CourseStatus(StrEnum):
    draft = "DRAFT"
    published = "PUBLISHED"
    archived = "ARCHIVED"


class TenantPlacement(StrEnum):
    pool = "POOL"
    bridge = "BRIDGE"
    silo = "SILO"


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


class EnrollmentStatus(StrEnum):
    active = "ACTIVE"
    completed = "COMPLETED"
    dropped = "DROPPED"


class Enrollment(Body):
    id: uuid.UUID
    course_id: uuid.UUID
    user_id: uuid.UUID
    status: EnrollmentStatus
    enrolled_at: Timestamp
    completed_at: Timestamp | None
    dropped_at: Timestamp | None
    progress_percent: float

    @classmethod
    def of(cls, row: Any) -> Enrollment:
        return cls(
            id=row.id,
            course_id=row.course_id,
            user_id=row.user_id,
            status=EnrollmentStatus(row.status.upper()),
            enrolled_at=row.enrolled_at,
            completed_at=row.completed_at,
            dropped_at=row.dropped_at,
            progress_percent=float(row.progress_pct),
        )


class EnrollmentPage(Body):
    items: list[Enrollment]
    next_cursor: str | None


class Submission(Body):
    id: uuid.UUID
    assessment_id: uuid.UUID
    user_id: uuid.UUID
    attempt_number: int
    assessment_version: int
    answers: dict[str, Any]
    score: float | None
    passed: bool | None
    feedback: str | None
    status: str
    started_at: Timestamp
    submitted_at: Timestamp | None
    graded_at: Timestamp | None
    late: bool
    files: list[StoredFile] = Field(default_factory=list, description="The files handed in with it.")

    @classmethod
    def of(cls, row: Any, files: list[StoredFile] | None = None) -> Submission:
        return cls(
            id=row.id,
            assessment_id=row.assessment_id,
            user_id=row.user_id,
            attempt_number=row.attempt_number,
            assessment_version=row.assessment_version,
            answers=row.answers,
            score=float(row.score) if row.score is not None else None,
            passed=row.passed,
            feedback=row.feedback,
            status=row.status.upper(),
            started_at=row.started_at,
            submitted_at=row.submitted_at,
            graded_at=row.graded_at,
            late=row.is_late,
            files=files or [],
        )


class TenantOverview(Body):
    user_count: int
    student_count: int
    instructor_count: int
    course_count: int
    published_course_count: int
    enrollment_count: int
    completion_rate: float
    placement: TenantPlacement = Field(
        description="Where the tenant's data lives: the shared pool, a schema or a database."
    )
    region: str


class LessonCompletion(Body):
    lesson_id: uuid.UUID
    completed_count: int
    completion_rate: float


class CourseCompletion(Body):
    course_id: uuid.UUID
    enrollment_count: int
    completed_count: int
    completion_rate: float
    average_progress: float
    average_score: float | None
    lessons: list[LessonCompletion]


class CourseCreate(Body):
    title: str
    slug: str | None = None
    description: str | None = None
    max_enrollment: int | None = None
    instructor_id: uuid.UUID | None = None


class CourseUpdate(Body):
    """Fields left out stay as they are; null removes description and maxEnrollment."""

    title: str | None = None
    description: str | None = None
    max_enrollment: int | None = None


class ProgressIn(Body):
    progress: int


class LessonProgress(Body):
    lesson_id: uuid.UUID
    progress_pct: int
    status: str
    started_at: Timestamp | None
    completed_at: Timestamp | None

    @classmethod
    def of(cls, row: Any) -> LessonProgress:
        return cls(
            lesson_id=row.lesson_id,
            progress_pct=row.progress_pct,
            status=row.status.upper(),
            started_at=row.started_at,
            completed_at=row.completed_at,
        )


class Module(Body):
    id: uuid.UUID
    course_id: uuid.UUID
    title: str
    position: int
    unlock_at: Timestamp | None
    requires_previous: bool
    locked: bool
    lock_reason: str | None

    @classmethod
    def of(cls, row: Any, lock: str | None) -> Module:
        return cls(
            id=row.id,
            course_id=row.course_id,
            title=row.title,
            position=row.position,
            unlock_at=row.unlock_at,
            requires_previous=row.requires_previous,
            locked=lock is not None,
            lock_reason=lock,
        )


class ModuleList(Body):
    items: list[Module]


class ContentType(StrEnum):
    video = "VIDEO"
    text = "TEXT"
    quiz = "QUIZ"
    assignment = "ASSIGNMENT"


class Lesson(Body):
    """contentRef is null unless you are enrolled or may edit the course, and while it is locked for you."""

    id: uuid.UUID
    module_id: uuid.UUID
    course_id: uuid.UUID
    title: str
    content_type: ContentType
    duration_min: int | None
    position: int
    content_ref: str | None
    requires_previous: bool
    locked: bool
    lock_reason: str | None
    my_progress: LessonProgress | None
    content_url: str | None = Field(
        default=None, description="A signed URL (one hour) of its uploaded content; null like contentRef."
    )
    media: LessonMedia | None = Field(default=None, description="What the video pipeline made of its video.")

    @classmethod
    def of(
        cls,
        row: Any,
        progress: Any,
        content_visible: bool,
        lock: str | None,
        content_url: str | None = None,
        media: LessonMedia | None = None,
    ) -> Lesson:
        return cls(
            id=row.id,
            module_id=row.module_id,
            course_id=row.course_id,
            title=row.title,
            content_type=ContentType(row.content_type.upper()),
            duration_min=row.duration_min,
            position=row.position,
            content_ref=row.content_ref if content_visible else None,
            requires_previous=row.requires_previous,
            locked=lock is not None,
            lock_reason=lock,
            my_progress=LessonProgress.of(progress) if progress is not None else None,
            content_url=content_url,
            media=media,
        )


class LessonList(Body):
    items: list[Lesson]


class AssessmentType(StrEnum):
    quiz = "QUIZ"
    exam = "EXAM"
    assignment = "ASSIGNMENT"
    peer_review = "PEER_REVIEW"


class Assessment(Body):
    """questions: the README's question model; answer keys only for those who may edit the course."""

    id: uuid.UUID
    course_id: uuid.UUID
    title: str
    assessment_type: AssessmentType
    max_score: float
    passing_score: float
    time_limit_min: int | None
    max_attempts: int | None
    due_at: Timestamp | None
    version: int
    questions: list[dict[str, Any]]

    @classmethod
    def of(cls, row: Any, questions: list[dict[str, Any]]) -> Assessment:
        return cls(
            id=row.id,
            course_id=row.course_id,
            title=row.title,
            assessment_type=AssessmentType(row.assessment_type.upper()),
            max_score=float(row.max_score),
            passing_score=float(row.passing_score),
            time_limit_min=row.time_limit_min,
            max_attempts=row.max_attempts,
            due_at=row.due_at,
            version=row.version,
            questions=questions,
        )


class AssessmentList(Body):
    items: list[Assessment]


class SubmissionIn(Body):
    answers: dict[str, Any] = Field(
        description="From question id to answer: an option id, a list of option ids, a boolean or a text, by "
        "question type. Omitted questions count as blank."
    )
    file_ids: list[uuid.UUID] = Field(
        default_factory=list, description="Your confirmed uploads for this assessment to hand in with it (at most 10)."
    )


class UploadIn(Body):
    content_type: str = Field(description="The file's media type, one of those the server accepts for it.")
    size_bytes: int = Field(description="The file's exact size in bytes.")


class UploadTicket(Body):
    """Send the bytes with `method` to `url` with `headers` before expiresAt, then confirm."""

    file_id: uuid.UUID
    url: str
    method: str
    headers: dict[str, str]
    expires_at: Timestamp
    max_bytes: int


class StoredFile(Body):
    id: uuid.UUID
    content_type: str
    size_bytes: int | None
    created_at: Timestamp
    url: str | None = Field(description="A signed URL to download it, valid one hour; null until confirmed.")


class MediaRendition(Body):
    name: str
    width: int
    height: int
    bandwidth: int


class LessonMedia(Body):
    status: str = Field(description="PROCESSING, READY or FAILED.")
    duration_seconds: float | None
    width: int | None
    height: int | None
    renditions: list[MediaRendition]
    error: str | None
    attempts: int
    updated_at: Timestamp
    playlist_url: str | None
    thumbnail_url: str | None
