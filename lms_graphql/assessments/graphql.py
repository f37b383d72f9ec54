from __future__ import annotations

import strawberry

from lms_graphql.assessments.repository import AssessmentRepository
from lms_graphql.assessments.types import Submission
from lms_graphql.auth.permissions import Permission
from lms_graphql.context import Context, Viewer
from lms_graphql.errors import not_found
from lms_graphql.kit.graphql import require_id

Info = strawberry.Info[Context, None]


def may_grade(viewer: Viewer, instructor_id: object) -> bool:
    if viewer.can(Permission.SUBMISSION_GRADE_ANY):
        return True
    own = viewer.can(Permission.SUBMISSION_GRADE_OWN_COURSE) and not viewer.cross_tenant
    return own and instructor_id == viewer.id


@strawberry.type
class AssessmentQueries:
    @strawberry.field(description="A submission: its author's, or for the course's instructor and admins.")
    async def submission(self, info: Info, id: strawberry.ID) -> Submission | None:
        ctx = info.context
        viewer = ctx.require_viewer()
        key = require_id(id, "submission")
        async with ctx.read() as session:
            row = await AssessmentRepository(session, ctx.tenant.id).submission(key)
        if row is None:
            raise not_found("submission not found")
        if row.user_id != viewer.id:
            assessment = await ctx.loaders.assessment.load(row.assessment_id)
            course = await ctx.loaders.course.load(assessment.course_id)
            if not may_grade(viewer, course.instructor_id):
                raise not_found("submission not found")  # others' work does not exist for you
        return Submission.from_row(row)
