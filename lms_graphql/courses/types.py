"""GraphQL types of the catalogue: courses, modules, lessons, and the course connection."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from lms_graphql.auth import policies
from lms_graphql.context import Context, Info
from lms_graphql.courses import service
from lms_graphql.courses.repository import CourseFilter
from lms_graphql.kit.lookahead import as_resolver_result
from lms_graphql.kit.pagination import encode_cursor
from lms_graphql.users.graphql import User

if TYPE_CHECKING:
    from lms_graphql.assessments.types import Assessment
    from lms_graphql.enrollments.types import LessonProgress


@strawberry.enum
class CourseStatus(Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


@strawberry.enum
class ContentType(Enum):
    VIDEO = "video"
    TEXT = "text"
    QUIZ = "quiz"
    ASSIGNMENT = "assignment"


@strawberry.type
class Course:
    id: strawberry.ID
    title: str
    slug: str
    description: str | None
    status: CourseStatus
    max_enrollment: int | None
    published_at: datetime | None
    created_at: datetime
    key: strawberry.Private[uuid.UUID]
    instructor_id: strawberry.Private[uuid.UUID]
    prefetched_modules: strawberry.Private[list[Module] | None] = None

    @classmethod
    def from_row(cls, row: Any, *, modules: list[Module] | None = None) -> Course:
        return cls(
            id=strawberry.ID(str(row.id)),
            title=row.title,
            slug=row.slug,
            description=row.description,
            status=CourseStatus(row.status),
            max_enrollment=row.max_enrollment,
            published_at=row.published_at,
            created_at=row.created_at,
            key=row.id,
            instructor_id=row.instructor_id,
            prefetched_modules=modules,
        )

    @strawberry.field
    async def instructor(self, info: Info) -> User:
        return User.from_row(await info.context.loaders.user.load(self.instructor_id))

    @strawberry.field(description="Modules in position order.")
    def modules(self, info: Info) -> list[Module]:
        if self.prefetched_modules is not None:
            return self.prefetched_modules
        return as_resolver_result(self._load_modules(info.context))

    async def _load_modules(self, ctx: Context) -> list[Module]:
        return [Module.from_row(row) for row in await ctx.loaders.modules_of_course.load(self.key)]

    @strawberry.field
    async def assessments(
        self, info: Info
    ) -> list[Annotated[Assessment, strawberry.lazy("lms_graphql.assessments.types")]]:
        from lms_graphql.assessments.types import Assessment

        rows = await info.context.loaders.assessments_of_course.load(self.key)
        return [Assessment.from_row(row) for row in rows]

    @strawberry.field(description="Students enrolled (active or completed).")
    async def enrollment_count(self, info: Info) -> int:
        stats = await info.context.loaders.enrollment_stats.load(self.key)
        return int(stats[0].enrolled) if stats else 0

    @strawberry.field(description="Completed enrollments / enrollments, 0-1; null without enrollments.")
    async def completion_rate(self, info: Info) -> float | None:
        stats = await info.context.loaders.enrollment_stats.load(self.key)
        if not stats or not stats[0].enrolled:
            return None
        return round(int(stats[0].completed) / int(stats[0].enrolled), 4)


@strawberry.type
class Module:
    id: strawberry.ID
    title: str
    position: int
    key: strawberry.Private[uuid.UUID]
    course_id: strawberry.Private[uuid.UUID]
    prefetched_lessons: strawberry.Private[list[Lesson] | None] = None

    @classmethod
    def from_row(cls, row: Any, *, lessons: list[Lesson] | None = None) -> Module:
        return cls(
            id=strawberry.ID(str(row.id)),
            title=row.title,
            position=row.position,
            key=row.id,
            course_id=row.course_id,
            prefetched_lessons=lessons,
        )

    @strawberry.field
    async def course(self, info: Info) -> Course:
        return Course.from_row(await info.context.loaders.course.load(self.course_id))

    @strawberry.field(description="Lessons in position order.")
    def lessons(self, info: Info) -> list[Lesson]:
        if self.prefetched_lessons is not None:
            return self.prefetched_lessons
        return as_resolver_result(self._load_lessons(info.context))

    async def _load_lessons(self, ctx: Context) -> list[Lesson]:
        return await lessons_for(ctx, await ctx.loaders.lessons_of_module.load(self.key))


@strawberry.type
class Lesson:
    id: strawberry.ID
    title: str
    content_type: ContentType
    duration_min: int | None
    position: int
    content_ref: str | None = strawberry.field(
        description="The lesson's content; null unless you are enrolled or edit the course."
    )
    # Plain values, settled in batches by ``lessons_for``: a dashboard holds hundreds of
    # lessons, and a field without a resolver costs far less to execute.
    my_progress: Annotated[LessonProgress, strawberry.lazy("lms_graphql.enrollments.types")] | None = strawberry.field(
        description="The current user's progress on this lesson; null when never started."
    )
    key: strawberry.Private[uuid.UUID]
    module_id: strawberry.Private[uuid.UUID]
    course_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: Any, *, progress: Any = None, content_visible: bool = False) -> Lesson:
        from lms_graphql.enrollments.types import LessonProgress

        return cls(
            id=strawberry.ID(str(row.id)),
            title=row.title,
            content_type=ContentType(row.content_type),
            content_ref=row.content_ref if content_visible else None,
            duration_min=row.duration_min,
            position=row.position,
            my_progress=LessonProgress.from_row(progress) if progress is not None else None,
            key=row.id,
            module_id=row.module_id,
            course_id=row.course_id,
        )

    @strawberry.field
    async def module(self, info: Info) -> Module:
        return Module.from_row(await info.context.loaders.module.load(self.module_id))


async def lessons_for(ctx: Context, rows: list[Any]) -> list[Lesson]:
    """Lessons with the viewer's progress and content access settled in batches."""
    if not rows:
        return []
    viewer = ctx.viewer
    if viewer is None:
        return [Lesson.from_row(row) for row in rows]
    loaders = ctx.loaders
    course_ids = list(dict.fromkeys(row.course_id for row in rows))
    progress, enrollments, courses = await asyncio.gather(
        loaders.my_progress.load_many([row.id for row in rows]),
        loaders.my_enrollment.load_many(course_ids),
        loaders.course.load_many(course_ids),
    )
    visible = {
        course_id: (enrollment is not None and enrollment.status != "dropped")
        or policies.may_edit_course(viewer, course.instructor_id)
        for course_id, enrollment, course in zip(course_ids, enrollments, courses, strict=True)
    }
    return [
        Lesson.from_row(row, progress=row_progress, content_visible=visible[row.course_id])
        for row, row_progress in zip(rows, progress, strict=True)
    ]


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class CourseEdge:
    node: Course
    cursor: str


@strawberry.type
class CourseConnection:
    edges: list[CourseEdge]
    page_info: PageInfo
    course_filter: strawberry.Private[CourseFilter]

    @classmethod
    def from_rows(cls, rows: list[Any], limit: int, course_filter: CourseFilter) -> CourseConnection:
        page = rows[:limit]
        edges = [CourseEdge(node=Course.from_row(row), cursor=encode_cursor(row.created_at, row.id)) for row in page]
        return cls(
            edges=edges,
            page_info=PageInfo(has_next_page=len(rows) > limit, end_cursor=edges[-1].cursor if edges else None),
            course_filter=course_filter,
        )

    @strawberry.field(description="All courses matching the filter, across pages.")
    async def total_count(self, info: Info) -> int:
        ctx = info.context
        async with ctx.read() as session:
            return await service.count(session, ctx.tenant.id, self.course_filter)
