"""Queries and mutations of the catalogue."""

from __future__ import annotations

import strawberry

from lms_graphql.auth.permissions import Permission
from lms_graphql.context import Context, Info
from lms_graphql.courses import access, service
from lms_graphql.courses.types import ContentType, Course, CourseConnection, CourseStatus, Lesson, Module, lessons_for
from lms_graphql.errors import bad_input, not_found
from lms_graphql.kit.graphql import require_id
from lms_graphql.kit.pagination import decode_cursor, page_size

MAX_SEARCH = 200


@strawberry.input
class PaginationInput:
    first: int | None = 20
    after: str | None = None


@strawberry.input
class CreateCourseInput:
    title: str
    slug: str | None = None
    description: str | None = None
    max_enrollment: int | None = None
    instructor_id: strawberry.ID | None = strawberry.field(
        default=None, description="Admins may create a course for another instructor; default: the caller."
    )


@strawberry.input(description="Fields left out stay as they are; maxEnrollment: null removes the cap.")
class UpdateCourseInput:
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    max_enrollment: int | None = strawberry.UNSET


@strawberry.input
class CreateModuleInput:
    course_id: strawberry.ID
    title: str
    position: int | None = None


@strawberry.input
class CreateLessonInput:
    module_id: strawberry.ID
    title: str
    content_type: ContentType
    content_ref: str | None = None
    duration_min: int | None = None
    position: int | None = None


async def visible_course(ctx: Context, raw_id: strawberry.ID) -> Course:
    """The course, if the viewer may see it; NOT_FOUND alike for absent, foreign and hidden."""
    viewer = ctx.require_viewer()
    course_id = require_id(raw_id, "course")
    try:
        row = await ctx.loaders.course.load(course_id)
    except LookupError:
        raise not_found("course not found") from None
    if not access.can_see(viewer, row):
        enrollment = await ctx.loaders.my_enrollment.load(row.id)
        if enrollment is None:
            raise not_found("course not found")
    return Course.from_row(row)


@strawberry.type
class CourseQueries:
    @strawberry.field(description="Students see published courses, instructors also their own, admins all.")
    async def courses(
        self,
        info: Info,
        status: CourseStatus | None = None,
        search: str | None = None,
        pagination: PaginationInput | None = None,
    ) -> CourseConnection:
        ctx = info.context
        viewer = ctx.require_viewer()
        if search is not None and len(search) > MAX_SEARCH:
            raise bad_input(f"search must be at most {MAX_SEARCH} characters")
        limit = page_size(pagination.first if pagination else None)
        after = decode_cursor(pagination.after) if pagination and pagination.after else None
        course_filter = access.listing_filter(
            viewer, status=status.value if status else None, search=(search or "").strip() or None
        )
        async with ctx.read() as session:
            rows = await service.page(session, ctx.tenant.id, course_filter, after, limit + 1)
        for row in rows:
            ctx.loaders.course.prime(row.id, row)
        return CourseConnection.from_rows(rows, limit, course_filter)

    @strawberry.field
    async def course(self, info: Info, id: strawberry.ID) -> Course | None:
        return await visible_course(info.context, id)


@strawberry.type
class CourseMutations:
    @strawberry.mutation(description="A new course starts as a draft; the slug is derived from the title if absent.")
    async def create_course(self, info: Info, input: CreateCourseInput) -> Course:
        ctx = info.context
        viewer = ctx.require(Permission.COURSE_CREATE)
        instructor_id = require_id(input.instructor_id, "instructor") if input.instructor_id is not None else None
        async with ctx.write() as session:
            course = await service.create_course(
                session,
                ctx.tenant,
                viewer,
                title=input.title,
                slug=input.slug,
                description=input.description,
                max_enrollment=input.max_enrollment,
                instructor_id=instructor_id,
            )
        return Course.from_row(course)

    @strawberry.mutation
    async def update_course(self, info: Info, id: strawberry.ID, input: UpdateCourseInput) -> Course:
        ctx = info.context
        viewer = ctx.require_viewer()
        changes = service.CourseChanges(
            title=input.title if input.title is not strawberry.UNSET else None,
            description=input.description if input.description is not strawberry.UNSET else None,
            description_set=input.description is not strawberry.UNSET,
            max_enrollment=input.max_enrollment if input.max_enrollment is not strawberry.UNSET else None,
            max_enrollment_set=input.max_enrollment is not strawberry.UNSET,
        )
        if input.title is None:
            raise bad_input("title must not be empty")
        course_id = require_id(id, "course")
        async with ctx.write() as session:
            course = await service.update_course(session, ctx.tenant, viewer, course_id, changes)
        return Course.from_row(course)

    @strawberry.mutation(description="Opens the course for enrollment; emits course.published.")
    async def publish_course(self, info: Info, id: strawberry.ID) -> Course:
        return await _lifecycle(info.context, id, service.publish_course)

    @strawberry.mutation(description="Closes the course to new enrollments; enrolled students keep access.")
    async def archive_course(self, info: Info, id: strawberry.ID) -> Course:
        return await _lifecycle(info.context, id, service.archive_course)

    @strawberry.mutation(description="Position defaults to after the last module; later modules move down.")
    async def create_module(self, info: Info, input: CreateModuleInput) -> Module:
        ctx = info.context
        viewer = ctx.require_viewer()
        course_id = require_id(input.course_id, "course")
        async with ctx.write() as session:
            module = await service.create_module(
                session, ctx.tenant, viewer, course_id=course_id, title=input.title, position=input.position
            )
        return Module.from_row(module)

    @strawberry.mutation(description="Position defaults to after the last lesson; later lessons move down.")
    async def create_lesson(self, info: Info, input: CreateLessonInput) -> Lesson:
        ctx = info.context
        viewer = ctx.require_viewer()
        module_id = require_id(input.module_id, "module")
        async with ctx.write() as session:
            lesson = await service.create_lesson(
                session,
                ctx.tenant,
                viewer,
                module_id=module_id,
                title=input.title,
                content_type=input.content_type.value,
                content_ref=input.content_ref,
                duration_min=input.duration_min,
                position=input.position,
            )
        (created,) = await lessons_for(ctx, [lesson])
        return created


async def _lifecycle(ctx: Context, raw_id: strawberry.ID, change: service.CourseTransition) -> Course:
    viewer = ctx.require_viewer()
    course_id = require_id(raw_id, "course")
    async with ctx.write() as session:
        course = await change(session, ctx.tenant, viewer, course_id)
    return Course.from_row(course)
