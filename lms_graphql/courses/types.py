"""GraphQL types of the catalogue: courses, modules, lessons, and the course connection."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from lms_graphql.auth import policies
from lms_graphql.context import Context, Info
from lms_graphql.courses import service
from lms_graphql.courses.repository import CourseFilter
from lms_graphql.kit.connections import PageInfo
from lms_graphql.kit.lookahead import as_resolver_result
from lms_graphql.kit.pagination import encode_cursor
from lms_graphql.users.graphql import User

if TYPE_CHECKING:
    from lms_graphql.assessments.types import Assessment
    from lms_graphql.enrollments.types import LessonProgress
    from lms_graphql.storage.types import LessonMedia


@strawberry.enum(description="Where a course is in its lifecycle: DRAFT, then PUBLISHED, then ARCHIVED.")
class CourseStatus(Enum):
    _value_: str  # for mypy: @strawberry.enum unwraps each enum_value, so members hold the string
    DRAFT = strawberry.enum_value(
        "draft", description="Being written: only its instructor and admins see it; not open for enrollment."
    )
    PUBLISHED = strawberry.enum_value(
        "published", description="In the catalogue: every user of the tenant sees it and may enroll."
    )
    ARCHIVED = strawberry.enum_value(
        "archived",
        description="Closed to new enrollments and gone from the catalogue but for its instructor and admins; "
        "enrolled students keep access.",
    )


@strawberry.enum(description="What kind of content a lesson holds; the content itself is at its contentRef.")
class ContentType(Enum):
    _value_: str  # for mypy: @strawberry.enum unwraps each enum_value, so members hold the string
    VIDEO = strawberry.enum_value("video", description="A video to watch.")
    TEXT = strawberry.enum_value("text", description="A text to read.")
    QUIZ = strawberry.enum_value("quiz", description="A quiz to take.")
    ASSIGNMENT = strawberry.enum_value("assignment", description="An assignment to do.")


@strawberry.type(
    description="A course of the tenant's catalogue. Students see published courses and those they are enrolled "
    "in, instructors also their own, admins every course of the tenant."
)
class Course:
    id: strawberry.ID = strawberry.field(description="Opaque id of the course.")
    title: str = strawberry.field(description="The course's title, 1-500 characters.")
    slug: str = strawberry.field(
        description="Its name in URLs, unique within the tenant: 2-63 lowercase letters, digits and hyphens."
    )
    description: str | None = strawberry.field(
        description="What the course is about (at most 20 000 characters); null when there is none."
    )
    status: CourseStatus = strawberry.field(description="DRAFT, PUBLISHED or ARCHIVED.")
    max_enrollment: int | None = strawberry.field(
        description="The most students (active or completed enrollments) it takes, 1-1 000 000; null: no limit."
    )
    published_at: datetime | None = strawberry.field(
        description="When it was last published (for a course archived without ever being published: when it was "
        "archived); null for a draft."
    )
    created_at: datetime = strawberry.field(description="When the course was created (UTC): the catalogue's order.")
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

    @strawberry.field(description="The instructor who teaches it: they may edit it, grade it and see its students.")
    async def instructor(self, info: Info) -> User:
        return User.from_row(await info.context.loaders.user.load(self.instructor_id))

    @strawberry.field(description="The course's modules in position order.")
    def modules(self, info: Info) -> list[Module]:
        if self.prefetched_modules is not None:
            return self.prefetched_modules
        return as_resolver_result(self._load_modules(info.context))

    async def _load_modules(self, ctx: Context) -> list[Module]:
        return [Module.from_row(row) for row in await ctx.loaders.modules_of_course.load(self.key)]

    @strawberry.field(description="The course's assessments, soonest due first (undated ones last).")
    async def assessments(
        self, info: Info
    ) -> list[Annotated[Assessment, strawberry.lazy("lms_graphql.assessments.types")]]:
        from lms_graphql.assessments.types import Assessment

        rows = await info.context.loaders.assessments_of_course.load(self.key)
        return [Assessment.from_row(row) for row in rows]

    @strawberry.field(
        description="The courses a learner must complete before enrolling in this one (setCoursePrerequisites), "
        "in the order they were set."
    )
    async def prerequisite_ids(self, info: Info) -> list[strawberry.ID]:
        rows = await info.context.loaders.prerequisites.load(self.key)
        return [strawberry.ID(str(row.required_course_id)) for row in rows]

    @strawberry.field(
        description="True while the signed-in user may not enroll: a prerequisite is not completed yet "
        "(lockReason names them). Enrolling then answers LOCKED."
    )
    async def locked(self, info: Info) -> bool:
        return await info.context.loaders.my_course_lock.load(self.key) is not None

    @strawberry.field(description="Why the course is locked for the signed-in user; null when it is not.")
    async def lock_reason(self, info: Info) -> str | None:
        reason: str | None = await info.context.loaders.my_course_lock.load(self.key)
        return reason

    @strawberry.field(description="Students enrolled: active or completed enrollments.")
    async def enrollment_count(self, info: Info) -> int:
        stats = await info.context.loaders.enrollment_stats.load(self.key)
        return int(stats[0].enrolled) if stats else 0

    @strawberry.field(
        description="Completed enrollments / active and completed enrollments, a fraction 0-1 (4 decimals); null "
        "without enrollments."
    )
    async def completion_rate(self, info: Info) -> float | None:
        stats = await info.context.loaders.enrollment_stats.load(self.key)
        if not stats or not stats[0].enrolled:
            return None
        # In decimals, rounded half up: what PostgreSQL's round(numeric, 4) gives (compiled reads).
        rate = Decimal(int(stats[0].completed)) / int(stats[0].enrolled)
        return float(rate.quantize(Decimal("0.0001"), ROUND_HALF_UP))


@strawberry.type(description="A part of a course: an ordered list of lessons. Visible with its course.")
class Module:
    id: strawberry.ID = strawberry.field(description="Opaque id of the module.")
    title: str = strawberry.field(description="The module's title, 1-500 characters.")
    position: int = strawberry.field(description="Its place in the course, from 0: modules are listed by it.")
    unlock_at: datetime | None = strawberry.field(
        description="Learners may open it from then on (UTC); null: no date (updateModule)."
    )
    requires_previous: bool = strawberry.field(
        description="Learners may open it once they completed every lesson of the module before it."
    )
    key: strawberry.Private[uuid.UUID]
    course_id: strawberry.Private[uuid.UUID]
    prefetched_lessons: strawberry.Private[list[Lesson] | None] = None

    @classmethod
    def from_row(cls, row: Any, *, lessons: list[Lesson] | None = None) -> Module:
        return cls(
            id=strawberry.ID(str(row.id)),
            title=row.title,
            position=row.position,
            unlock_at=row.unlock_at,
            requires_previous=row.requires_previous,
            key=row.id,
            course_id=row.course_id,
            prefetched_lessons=lessons,
        )

    @strawberry.field(description="The course it belongs to.")
    async def course(self, info: Info) -> Course:
        return Course.from_row(await info.context.loaders.course.load(self.course_id))

    @strawberry.field(
        description="True while the signed-in user may not open it yet: before its unlockAt, or before completing "
        "the module before it (lockReason says which). Its lessons are locked with it."
    )
    async def locked(self, info: Info) -> bool:
        return await self._lock(info.context) is not None

    @strawberry.field(description="Why the module is locked for the signed-in user; null when it is not.")
    async def lock_reason(self, info: Info) -> str | None:
        return await self._lock(info.context)

    async def _lock(self, ctx: Context) -> str | None:
        return await module_lock(ctx, self.key, self.unlock_at, self.requires_previous)

    @strawberry.field(description="The module's lessons in position order.")
    def lessons(self, info: Info) -> list[Lesson]:
        if self.prefetched_lessons is not None:
            return self.prefetched_lessons
        return as_resolver_result(self._load_lessons(info.context))

    async def _load_lessons(self, ctx: Context) -> list[Lesson]:
        return await lessons_for(ctx, await ctx.loaders.lessons_of_module.load(self.key))


@strawberry.type(
    description="A unit of learning within a module, visible with its course; its contentRef only to enrolled "
    "students and those who may edit the course."
)
class Lesson:
    id: strawberry.ID = strawberry.field(description="Opaque id of the lesson.")
    title: str = strawberry.field(description="The lesson's title, 1-500 characters.")
    content_type: ContentType = strawberry.field(description="What kind of content it holds.")
    duration_min: int | None = strawberry.field(
        description="Expected duration in minutes (0-100 000); null when not given."
    )
    position: int = strawberry.field(description="Its place in the module, from 0: lessons are listed by it.")
    content_ref: str | None = strawberry.field(
        description="Where the lesson's content is (a URL or similar, at most 2 000 characters); null unless you are "
        "enrolled or may edit the course, while it is locked for you, or when not set."
    )
    requires_previous: bool = strawberry.field(
        description="Learners may open it once they completed the lesson before it (in the course's reading order)."
    )
    locked: bool = strawberry.field(
        description="True while the signed-in user may not open it yet (lockReason says why): its content is hidden "
        "and progress on it answers LOCKED. Whatever locks its module locks it too."
    )
    lock_reason: str | None = strawberry.field(
        description="Why the lesson is locked for the signed-in user; null when it is not."
    )
    # Plain values, settled in batches by ``lessons_for``: a dashboard holds hundreds of
    # lessons, and a field without a resolver costs far less to execute.
    my_progress: Annotated[LessonProgress, strawberry.lazy("lms_graphql.enrollments.types")] | None = strawberry.field(
        description="The signed-in user's progress on this lesson; null when never started."
    )
    key: strawberry.Private[uuid.UUID]
    module_id: strawberry.Private[uuid.UUID]
    course_id: strawberry.Private[uuid.UUID]
    content_visible: strawberry.Private[bool] = False

    @classmethod
    def from_row(
        cls, row: Any, *, progress: Any = None, content_visible: bool = False, lock: str | None = None
    ) -> Lesson:
        """``lock``: why it is locked for the viewer; ``content_visible`` already says whether
        the viewer may see its content, locked or not."""
        from lms_graphql.enrollments.types import LessonProgress

        return cls(
            id=strawberry.ID(str(row.id)),
            title=row.title,
            content_type=ContentType(row.content_type),
            content_ref=row.content_ref if content_visible else None,
            requires_previous=row.requires_previous,
            locked=lock is not None,
            lock_reason=lock,
            duration_min=row.duration_min,
            position=row.position,
            my_progress=LessonProgress.from_row(progress) if progress is not None else None,
            key=row.id,
            module_id=row.module_id,
            course_id=row.course_id,
            content_visible=content_visible,
        )

    @strawberry.field(description="The module it belongs to.")
    async def module(self, info: Info) -> Module:
        return Module.from_row(await info.context.loaders.module.load(self.module_id))

    @strawberry.field(
        description="A signed URL (valid one hour) of the content uploaded for it (requestLessonUpload); null when "
        "none was, and like contentRef for those who may not see its content."
    )
    async def content_url(self, info: Info) -> str | None:
        from lms_graphql.storage.types import signed_url

        file = await self._content_file(info.context)
        return signed_url(info.context, file.object_key) if file is not None else None

    @strawberry.field(
        description="What the video pipeline made of its uploaded video (status, duration, renditions, playlist); "
        "null when no video was uploaded, and like contentRef for those who may not see its content."
    )
    async def media(self, info: Info) -> Annotated[LessonMedia, strawberry.lazy("lms_graphql.storage.types")] | None:
        from lms_graphql.storage.types import LessonMedia

        file = await self._content_file(info.context)
        row = await info.context.loaders.media.load(file.id) if file is not None else None
        return LessonMedia.from_row(row) if row is not None else None

    async def _content_file(self, ctx: Context) -> Any:
        return await ctx.loaders.lesson_content.load(self.key) if self.content_visible else None


@dataclass(frozen=True)
class LessonView:
    """A lesson as the viewer may see it: both transports (GraphQL, REST) build theirs from it."""

    row: Any
    progress: Any  # the viewer's progress row, or None
    content_visible: bool
    lock: str | None


async def lesson_views(ctx: Context, rows: list[Any]) -> list[LessonView]:
    """The viewer's progress, content access and locks of ``rows``, settled in batches."""
    viewer = ctx.viewer
    if viewer is None or not rows:
        return [LessonView(row, None, False, None) for row in rows]
    loaders = ctx.loaders
    course_ids = list(dict.fromkeys(row.course_id for row in rows))
    progress, enrollments, courses, locks = await asyncio.gather(
        loaders.my_progress.load_many([row.id for row in rows]),
        loaders.my_enrollment.load_many(course_ids),
        loaders.course.load_many(course_ids),
        _locks(ctx, rows),
    )
    editor = {
        course_id: policies.may_edit_course(viewer, course.instructor_id)
        for course_id, course in zip(course_ids, courses, strict=True)
    }
    enrolled = {
        course_id: enrollment is not None and enrollment.status != "dropped"
        for course_id, enrollment in zip(course_ids, enrollments, strict=True)
    }
    return [
        # A locked lesson's content is for the course's editors only.
        LessonView(row, row_progress, editor[row.course_id] or (enrolled[row.course_id] and lock is None), lock)
        for row, row_progress, lock in zip(rows, progress, locks, strict=True)
    ]


async def lessons_for(ctx: Context, rows: list[Any]) -> list[Lesson]:
    return [
        Lesson.from_row(view.row, progress=view.progress, content_visible=view.content_visible, lock=view.lock)
        for view in await lesson_views(ctx, rows)
    ]


async def module_lock(ctx: Context, module_id: uuid.UUID, unlock_at: Any, requires_previous: bool) -> str | None:
    """Why the module is locked for the viewer (module_lock(), migration 0014); asked only
    when the module has a rule."""
    if unlock_at is None and not requires_previous:
        return None
    reason: str | None = await ctx.loaders.my_module_lock.load(module_id)
    return reason


async def _locks(ctx: Context, rows: list[Any]) -> list[str | None]:
    """Why each lesson is locked for the viewer (lesson_lock(), migration 0014): asked only for
    lessons under a rule of their own or of their module."""
    modules = await ctx.loaders.module.load_many(list(dict.fromkeys(row.module_id for row in rows)))
    ruled = {module.id for module in modules if module.requires_previous or module.unlock_at is not None}
    asked = [row.id for row in rows if row.requires_previous or row.module_id in ruled]
    found = dict(zip(asked, await ctx.loaders.my_lesson_lock.load_many(asked), strict=True)) if asked else {}
    return [found.get(row.id) for row in rows]


@strawberry.type(description="A course in a page of the catalogue.")
class CourseEdge:
    node: Course = strawberry.field(description="The course.")
    cursor: str = strawberry.field(description="Opaque cursor of this course: pass it as `after` to continue after it.")


@strawberry.type(description="A page of courses, newest first: a Relay connection with keyset cursors.")
class CourseConnection:
    edges: list[CourseEdge] = strawberry.field(description="The courses of this page, at most `first` of them.")
    page_info: PageInfo = strawberry.field(description="Whether another page follows, and the cursor to ask for it.")
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
