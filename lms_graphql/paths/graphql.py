"""Learning paths over GraphQL: a course's editors set what must be completed first."""

from __future__ import annotations

from typing import Annotated

import strawberry

from lms_graphql.context import Info
from lms_graphql.courses.types import Course
from lms_graphql.kit.graphql import require_id
from lms_graphql.paths import service


@strawberry.type
class PathMutations:
    @strawberry.mutation(
        description="The course's instructor or an admin sets the courses a learner must complete before enrolling "
        "in it (replacing those set before; an empty list removes them): other published or archived courses of "
        "the tenant, at most 20, without a cycle. Errors: UNAUTHENTICATED without a token; NOT_FOUND when a course "
        "is unknown or hidden from you; FORBIDDEN when you may not edit the course; BAD_USER_INPUT for a draft, "
        "the course itself, a cycle or more than 20."
    )
    async def set_course_prerequisites(
        self,
        info: Info,
        course_id: Annotated[strawberry.ID, strawberry.argument(description="The course.")],
        required_course_ids: Annotated[
            list[strawberry.ID], strawberry.argument(description="The courses to complete first.")
        ],
    ) -> Course:
        ctx = info.context
        viewer = ctx.require_viewer()
        key = require_id(course_id, "course")
        required = [require_id(other, "course") for other in required_course_ids]
        async with ctx.write() as session:
            course = await service.set_prerequisites(session, ctx.tenant.id, viewer, key, required)
        return Course.from_row(course)
