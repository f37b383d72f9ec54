"""Queries and mutations of the catalogue."""

from __future__ import annotations

from typing import Annotated

import strawberry

from lms_graphql.auth.permissions import Permission
from lms_graphql.context import Context, Info
from lms_graphql.courses import access, service
from lms_graphql.courses.types import ContentType, Course, CourseConnection, CourseStatus, Lesson, Module, lessons_for
from lms_graphql.errors import bad_input, not_found
from lms_graphql.kit.graphql import require_id
from lms_graphql.kit.pagination import decode_cursor, page_size


@strawberry.input(description="Which page of a connection: `first` items after the cursor `after`.")
class PaginationInput:
    first: int | None = strawberry.field(default=20, description="How many items, 0-100; null: 20.")
    after: str | None = strawberry.field(
        default=None,
        description="A cursor from an earlier page (its endCursor, or an edge's cursor); null: from the start.",
    )


@strawberry.input(description="A new course; it starts as a DRAFT.")
class CreateCourseInput:
    title: str = strawberry.field(description="The title, 1-500 characters after trimming.")
    slug: str | None = strawberry.field(
        default=None,
        description="Its name in URLs, unique within the tenant: 2-63 lowercase letters, digits and hyphens, starting "
        "and ending with a letter or digit. Null: derived from the title.",
    )
    description: str | None = strawberry.field(
        default=None, description="What the course is about, at most 20 000 characters; null or blank: none."
    )
    max_enrollment: int | None = strawberry.field(
        default=None, description="The most students it takes, 1-1 000 000; null: no limit."
    )
    instructor_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Its instructor: an active instructor or admin of the tenant. Only admins may name someone else; "
        "null: the caller (a visiting platform operator must name one).",
    )


@strawberry.input(description="Changes to a course: fields left out stay as they are.")
class UpdateCourseInput:
    title: str | None = strawberry.field(
        default=strawberry.UNSET, description="The new title, 1-500 characters; null is refused."
    )
    description: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The new description, at most 20 000 characters; null or blank removes it.",
    )
    max_enrollment: int | None = strawberry.field(
        default=strawberry.UNSET, description="The new cap on students, 1-1 000 000; null removes the cap."
    )


@strawberry.input(description="A new module of a course.")
class CreateModuleInput:
    course_id: strawberry.ID = strawberry.field(description="The course to add it to.")
    title: str = strawberry.field(description="The title, 1-500 characters after trimming.")
    position: int | None = strawberry.field(
        default=None,
        description="Its place, 0-10 000: the modules from there on move down one. Null: after the last module.",
    )


@strawberry.input(description="A new lesson of a module.")
class CreateLessonInput:
    module_id: strawberry.ID = strawberry.field(description="The module to add it to.")
    title: str = strawberry.field(description="The title, 1-500 characters after trimming.")
    content_type: ContentType = strawberry.field(description="What kind of content it holds.")
    content_ref: str | None = strawberry.field(
        default=None, description="Where the content is (a URL or similar), at most 2 000 characters; null: none yet."
    )
    duration_min: int | None = strawberry.field(
        default=None, description="Expected duration in minutes, 0-100 000; null: not given."
    )
    position: int | None = strawberry.field(
        default=None,
        description="Its place, 0-10 000: the lessons from there on move down one. Null: after the last lesson.",
    )


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
    @strawberry.field(
        description="The catalogue, newest first. Students see published courses, instructors also their own, "
        "admins all. Errors: UNAUTHENTICATED without a token; BAD_USER_INPUT for a search over 200 characters, "
        "`first` outside 0-100 or an invalid cursor."
    )
    async def courses(
        self,
        info: Info,
        status: Annotated[
            CourseStatus | None, strawberry.argument(description="Only courses in this status; null: any.")
        ] = None,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Text the title or description contains: case-insensitive and literal (% and _ are not "
                "wildcards), at most 200 characters; null or blank: no filter."
            ),
        ] = None,
        pagination: Annotated[
            PaginationInput | None, strawberry.argument(description="Page size and cursor; null: the first 20.")
        ] = None,
    ) -> CourseConnection:
        ctx = info.context
        viewer = ctx.require_viewer()
        if search is not None and len(search) > access.MAX_SEARCH:
            raise bad_input(f"search must be at most {access.MAX_SEARCH} characters")
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

    @strawberry.field(
        description="A course you may see (see Course). Errors: UNAUTHENTICATED without a token; NOT_FOUND when it is "
        "unknown, another tenant's or hidden from you."
    )
    async def course(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The course's id.")]
    ) -> Course | None:
        return await visible_course(info.context, id)


@strawberry.type
class CourseMutations:
    @strawberry.mutation(
        description="Instructors and admins create a course; it starts as a DRAFT, and the slug is derived from the "
        "title if absent. Errors: UNAUTHENTICATED without a token; FORBIDDEN for students, and for naming another "
        "instructor without being an admin; NOT_FOUND for an unknown instructorId; BAD_USER_INPUT for an invalid "
        "title, slug, description, maxEnrollment or instructor; CONFLICT when the slug is taken in this tenant."
    )
    async def create_course(
        self, info: Info, input: Annotated[CreateCourseInput, strawberry.argument(description="The new course.")]
    ) -> Course:
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

    @strawberry.mutation(
        description="The course's instructor or an admin changes its title, description or cap. Errors: "
        "UNAUTHENTICATED without a token; NOT_FOUND when the course is unknown or hidden from you; FORBIDDEN when you "
        "see it but may not edit it; BAD_USER_INPUT for an invalid value."
    )
    async def update_course(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The course to change.")],
        input: Annotated[UpdateCourseInput, strawberry.argument(description="What to change.")],
    ) -> Course:
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

    @strawberry.mutation(
        description="The course's instructor or an admin opens it for enrollment (an archived course too); emits "
        "course.published and notifies every active student of the tenant. Publishing a published course changes "
        "nothing. Errors: UNAUTHENTICATED without a token; NOT_FOUND when the course is unknown or hidden from you; "
        "FORBIDDEN when you may not edit it; BAD_USER_INPUT when it has no lesson yet."
    )
    async def publish_course(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The course to publish.")]
    ) -> Course:
        return await _lifecycle(info.context, id, service.publish_course)

    @strawberry.mutation(
        description="The course's instructor or an admin closes it to new enrollments; enrolled students keep access. "
        "Errors: UNAUTHENTICATED without a token; NOT_FOUND when the course is unknown or hidden from you; FORBIDDEN "
        "when you may not edit it."
    )
    async def archive_course(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The course to archive.")]
    ) -> Course:
        return await _lifecycle(info.context, id, service.archive_course)

    @strawberry.mutation(
        description="The course's instructor or an admin adds a module: after the last one, or at `position` with the "
        "later ones moved down. Errors: UNAUTHENTICATED without a token; NOT_FOUND when the course is unknown or "
        "hidden from you; FORBIDDEN when you may not edit it; BAD_USER_INPUT for an invalid title or position."
    )
    async def create_module(
        self, info: Info, input: Annotated[CreateModuleInput, strawberry.argument(description="The new module.")]
    ) -> Module:
        ctx = info.context
        viewer = ctx.require_viewer()
        course_id = require_id(input.course_id, "course")
        async with ctx.write() as session:
            module = await service.create_module(
                session, ctx.tenant, viewer, course_id=course_id, title=input.title, position=input.position
            )
        return Module.from_row(module)

    @strawberry.mutation(
        description="The course's instructor or an admin adds a lesson: after the last one of the module, or at "
        "`position` with the later ones moved down. Every enrolled student's course percent is recomputed. Errors: "
        "UNAUTHENTICATED without a token; NOT_FOUND when the module is unknown or its course hidden from you; "
        "FORBIDDEN when you may not edit the course; BAD_USER_INPUT for an invalid title, contentRef, durationMin or "
        "position."
    )
    async def create_lesson(
        self, info: Info, input: Annotated[CreateLessonInput, strawberry.argument(description="The new lesson.")]
    ) -> Lesson:
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
