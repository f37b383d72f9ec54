"""The subscriptions: a student's notifications, and live progress of a course."""

from __future__ import annotations

import functools
from collections.abc import AsyncGenerator, Hashable
from datetime import datetime
from typing import Annotated, Any

import strawberry
from graphql import ExecutionResult

from lms_graphql.auth import policies
from lms_graphql.auth.viewer import Viewer
from lms_graphql.context import Context, Info
from lms_graphql.courses import service as course_service
from lms_graphql.enrollments.types import ProgressStatus
from lms_graphql.errors import ErrorCode, LmsError, bad_input
from lms_graphql.events.fanout import Render
from lms_graphql.kit.graphql import parse_id, require_id
from lms_graphql.kit.shared_execution import (
    Executions,
    LmsExecutionContext,
    SharedPayloads,
    execute_event,
    subscription_executor,
    view_key,
)
from lms_graphql.notifications.graphql import Notification
from lms_graphql.operations.frames import live_frames, rendered_payload
from lms_graphql.tenancy.features import LIVE_UPDATES, require_feature

# Both feeds resume the same way.
AfterEventId = Annotated[
    strawberry.ID | None,
    strawberry.argument(
        description="The last eventId received: what came after it (at most 500 items, within the outbox "
        "retention) is sent first. Null: live items only."
    ),
]


@strawberry.type(description="A student's progress on a lesson of the course, as it is recorded (lesson.progressed).")
class ProgressUpdate:
    course_id: strawberry.ID = strawberry.field(description="The course's id.")
    user_id: strawberry.ID = strawberry.field(description="The student's id.")
    lesson_id: strawberry.ID = strawberry.field(description="The lesson's id.")
    status: ProgressStatus = strawberry.field(description="The lesson's status for the student after this update.")
    progress_pct: int = strawberry.field(description="The lesson's progress after this update, 0-100.")
    course_percent: float = strawberry.field(
        description="The student's whole-course progress after this update, 0-100."
    )
    occurred_at: datetime = strawberry.field(description="When the progress was recorded (UTC).")
    event_id: strawberry.ID = strawberry.field(description="Pass as afterEventId when resubscribing to miss nothing.")
    # Every field above is a plain value, so one execution serves all subscribers (see shared).
    shared_executions: strawberry.Private[Executions | None] = None

    @classmethod
    def from_event(cls, row: Any, shared_executions: Executions | None = None) -> ProgressUpdate:
        payload = row.payload
        return cls(
            course_id=strawberry.ID(payload["courseId"]),
            user_id=strawberry.ID(str(row.user_id)),
            lesson_id=strawberry.ID(payload["lessonId"]),
            status=ProgressStatus(payload.get("status", "in_progress")),
            progress_pct=int(payload["progressPct"]),
            course_percent=float(payload.get("coursePercent", 0)),
            occurred_at=row.occurred_at,
            event_id=strawberry.ID(str(row.id)),
            shared_executions=shared_executions,
        )


PROGRESS_UPDATES = SharedPayloads()


def _after(raw: strawberry.ID | None) -> Any:
    if raw is None:
        return None
    parsed = parse_id(raw)
    if parsed is None:
        raise bad_input("afterEventId must be an event id from an earlier message")
    return parsed


def _subscriber(ctx: Context) -> Viewer:
    viewer = ctx.require_viewer()
    if viewer.cross_tenant:
        raise LmsError(ErrorCode.FORBIDDEN, "platform operators cannot subscribe in another tenant")
    require_feature(ctx.tenant, LIVE_UPDATES)
    return viewer


@strawberry.type
class LiveSubscriptions:
    @strawberry.subscription(
        description="The signed-in user's notifications as they are created. After a reconnect, pass the last "
        "eventId seen as afterEventId to receive what was missed (within the outbox retention). Errors: "
        "UNAUTHENTICATED without a token; FORBIDDEN for a platform operator visiting another tenant; "
        "BAD_USER_INPUT for a malformed afterEventId."
    )
    async def student_notifications(
        self,
        info: Info,
        after_event_id: AfterEventId = None,
    ) -> AsyncGenerator[Notification, None]:
        ctx = info.context
        viewer = _subscriber(ctx)
        async for row in ctx.services.live.notifications(ctx.tenant.id, viewer, _after(after_event_id)):
            yield Notification.from_row(row)

    @strawberry.subscription(
        description="Progress of the course's students as it happens: for its instructor and admins. "
        "afterEventId resumes after a reconnect. Errors: UNAUTHENTICATED without a token; NOT_FOUND when the "
        "course is unknown or hidden from you; FORBIDDEN for anyone else, and for a platform operator visiting "
        "another tenant; BAD_USER_INPUT for a malformed afterEventId."
    )
    async def course_progress_updates(
        self,
        info: Info,
        course_id: Annotated[strawberry.ID, strawberry.argument(description="The course to watch.")],
        after_event_id: AfterEventId = None,
    ) -> AsyncGenerator[ProgressUpdate, None]:
        ctx = info.context
        viewer = _subscriber(ctx)
        key = require_id(course_id, "course")
        after = _after(after_event_id)
        async with ctx.read() as session:
            course = await course_service.visible(session, ctx.tenant.id, viewer, key)
        if not policies.may_watch_progress(viewer, course.instructor_id):
            raise LmsError(ErrorCode.FORBIDDEN, "only the course's instructor or an admin may watch its progress")
        live = ctx.services.live
        frames, executor = live_frames(ctx), subscription_executor(ctx)
        if frames is None or executor is None:
            async for row in live.course_progress(ctx.tenant.id, viewer, key, after):
                yield _progress_update(row)
            return
        # Over a websocket: each event rendered once per view and written by this task itself,
        # not executed and serialised again by graphql-core and strawberry for each subscriber.
        render, view = _rendering(info, executor)
        async for message in live.course_progress(ctx.tenant.id, viewer, key, after, render, view):
            await frames.send(message)


def _progress_update(row: Any) -> ProgressUpdate:
    return PROGRESS_UPDATES.get(row.id, functools.partial(ProgressUpdate.from_event, row))


def _rendering(info: Info, executor: LmsExecutionContext) -> tuple[Render, Hashable]:
    """How this subscription renders an event, and the key of the subscriptions that render it
    alike. ProgressUpdate's fields read only the event (no viewer, no context), so the document
    and its variables decide; a field that looked at the viewer would need its visibility in
    the key."""

    async def render(row: Any) -> str | ExecutionResult:
        result = await execute_event(executor, _progress_update(row))
        if result.errors:
            info.schema.process_errors(result.errors)
        return rendered_payload(result)

    return render, view_key(executor) or object()
