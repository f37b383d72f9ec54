"""Editing a course's content over GraphQL: the course's instructor or an admin renames, moves
and removes its modules and lessons."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from lms_graphql.authoring import service
from lms_graphql.context import Info
from lms_graphql.courses.types import ContentType, Lesson, Module, lessons_for
from lms_graphql.errors import bad_input
from lms_graphql.kit.graphql import require_id

EDIT_ERRORS = (
    "Errors: UNAUTHENTICATED without a token; NOT_FOUND when it is unknown, removed, or its course hidden from you; "
    "FORBIDDEN when you may not edit the course"
)


@strawberry.input(description="What to change in a lesson; fields left out stay as they are.")
class UpdateLessonInput:
    title: str | None = strawberry.field(
        default=strawberry.UNSET, description="The new title, 1-500 characters; null is refused."
    )
    content_type: ContentType | None = strawberry.field(
        default=strawberry.UNSET, description="What kind of content it holds; null is refused."
    )
    content_ref: str | None = strawberry.field(
        default=strawberry.UNSET, description="Where the content is, at most 2 000 characters; null removes it."
    )
    duration_min: int | None = strawberry.field(
        default=strawberry.UNSET, description="Expected duration in minutes, 0-100 000; null removes it."
    )
    requires_previous: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="True: learners open it once they completed the lesson before it; null is refused.",
    )


@strawberry.type(description="What removing a module or a lesson did.")
class Removal:
    id: strawberry.ID = strawberry.field(description="The module or lesson removed.")
    archived: bool = strawberry.field(
        description="True: learners had progress on it (or, for a module, on one of its lessons), so it was "
        "archived rather than deleted: the progress is kept as history, and it is shown and counted nowhere. "
        "False: it was deleted."
    )


@strawberry.type
class AuthoringMutations:
    @strawberry.mutation(
        description="Renames a module, or sets when learners may open it: from a date (unlockAt), and/or once they "
        f"completed the module before it (requiresPrevious). {EDIT_ERRORS}; BAD_USER_INPUT for an invalid title."
    )
    async def update_module(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The module to change.")],
        title: Annotated[
            str | None, strawberry.argument(description="The new title, 1-500 characters after trimming.")
        ] = strawberry.UNSET,
        unlock_at: Annotated[
            datetime | None, strawberry.argument(description="Learners may open it from then on; null: no date.")
        ] = strawberry.UNSET,
        requires_previous: Annotated[
            bool | None,
            strawberry.argument(description="True: learners open it once they completed the module before it."),
        ] = strawberry.UNSET,
    ) -> Module:
        ctx = info.context
        viewer = ctx.require_viewer()
        if title is None or requires_previous is None:
            raise bad_input("title and requiresPrevious may be left out, not set to null")
        changes = service.ModuleChanges(
            title=title if title is not strawberry.UNSET else None,
            unlock_at=unlock_at if unlock_at is not strawberry.UNSET else None,
            unlock_at_set=unlock_at is not strawberry.UNSET,
            requires_previous=requires_previous if requires_previous is not strawberry.UNSET else None,
        )
        module_id = require_id(id, "module")
        async with ctx.write() as session:
            module = await service.update_module(session, ctx.tenant, viewer, module_id, changes)
        return Module.from_row(module)

    @strawberry.mutation(
        description=f"Changes a lesson's title, content or duration. {EDIT_ERRORS}; BAD_USER_INPUT for an invalid "
        "value."
    )
    async def update_lesson(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The lesson to change.")],
        input: Annotated[UpdateLessonInput, strawberry.argument(description="What to change.")],
    ) -> Lesson:
        ctx = info.context
        viewer = ctx.require_viewer()
        if input.title is None or input.content_type is None or input.requires_previous is None:
            raise bad_input("title, contentType and requiresPrevious may be left out, not set to null")
        changes = service.LessonChanges(
            title=input.title if input.title is not strawberry.UNSET else None,
            content_type=input.content_type.value if input.content_type is not strawberry.UNSET else None,
            content_ref=input.content_ref if input.content_ref is not strawberry.UNSET else None,
            content_ref_set=input.content_ref is not strawberry.UNSET,
            duration_min=input.duration_min if input.duration_min is not strawberry.UNSET else None,
            duration_set=input.duration_min is not strawberry.UNSET,
            requires_previous=input.requires_previous if input.requires_previous is not strawberry.UNSET else None,
        )
        lesson_id = require_id(id, "lesson")
        async with ctx.write() as session:
            lesson = await service.update_lesson(session, ctx.tenant, viewer, lesson_id, changes)
        (changed,) = await lessons_for(ctx, [lesson])
        return changed

    @strawberry.mutation(
        description="Moves a module to `position` among the course's modules (beyond the last: to the end); the "
        f"others close up, so positions stay 0, 1, 2... {EDIT_ERRORS}; BAD_USER_INPUT for a negative position."
    )
    async def move_module(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The module to move.")],
        position: Annotated[int, strawberry.argument(description="Its new place, from 0.")],
    ) -> Module:
        ctx = info.context
        viewer = ctx.require_viewer()
        module_id = require_id(id, "module")
        async with ctx.write() as session:
            module = await service.move_module(session, ctx.tenant, viewer, module_id, position)
        return Module.from_row(module)

    @strawberry.mutation(
        description="Moves a lesson to `position` in its module, or in `moduleId` (another module of the same "
        f"course); positions stay 0, 1, 2... in both. {EDIT_ERRORS}, or when moduleId is not a module of the "
        "lesson's course; BAD_USER_INPUT for a negative position."
    )
    async def move_lesson(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The lesson to move.")],
        position: Annotated[int, strawberry.argument(description="Its new place in the module, from 0.")],
        module_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="The module to move it to; null: it stays in its module."),
        ] = None,
    ) -> Lesson:
        ctx = info.context
        viewer = ctx.require_viewer()
        lesson_id = require_id(id, "lesson")
        target = require_id(module_id, "module") if module_id is not None else None
        async with ctx.write() as session:
            lesson = await service.move_lesson(session, ctx.tenant, viewer, lesson_id, position, target)
        (moved,) = await lessons_for(ctx, [lesson])
        return moved

    @strawberry.mutation(
        description="Removes a lesson: deleted, or archived when learners have progress on it (kept as history, "
        "shown and counted nowhere). The lessons after it close up, and every enrolled learner's course percent "
        f"is recomputed (a completed enrollment stays completed). {EDIT_ERRORS}."
    )
    async def delete_lesson(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The lesson to remove.")]
    ) -> Removal:
        ctx = info.context
        viewer = ctx.require_viewer()
        lesson_id = require_id(id, "lesson")
        async with ctx.write() as session:
            removed = await service.delete_lesson(session, ctx.tenant, viewer, lesson_id)
        return Removal(id=strawberry.ID(str(removed.id)), archived=removed.archived)

    @strawberry.mutation(
        description="Removes a module and its lessons: deleted, or, when learners have progress on some of its "
        "lessons, the module and those lessons archived and the others deleted. The modules after it close up, "
        f"and every enrolled learner's course percent is recomputed. {EDIT_ERRORS}."
    )
    async def delete_module(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The module to remove.")]
    ) -> Removal:
        ctx = info.context
        viewer = ctx.require_viewer()
        module_id = require_id(id, "module")
        async with ctx.write() as session:
            removed = await service.delete_module(session, ctx.tenant, viewer, module_id)
        return Removal(id=strawberry.ID(str(removed.id)), archived=removed.archived)
