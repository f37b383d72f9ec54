"""REST: CSV downloads: a course's gradebook and completion (its instructor, admins) and the
tenants' usage (platform operators). Streamed as they are read: large courses stay cheap."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import StreamingResponse

from lms_graphql.administration import reports, usage
from lms_graphql.context import Context
from lms_graphql.rest.runner import operation, services_of

router = APIRouter(tags=["reports"])
CSV = "text/csv; charset=utf-8"


class Report(StrEnum):
    gradebook = "gradebook"
    completion = "completion"


def attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"}


@router.get(
    "/courses/{course_id}/{report}.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "The report, one row per enrolled learner."}},
    summary="A course's gradebook or completion, as CSV",
    description="gradebook: each enrolled learner's best graded score per assessment (one column each, in the order "
    "they were created) and how many they passed. completion: lessons completed of the course's lessons, the "
    "enrollment's status and dates, the certificate. For the course's instructor and admins; the download is "
    "recorded in the audit log.",
)
async def course_report(request: Request, course_id: uuid.UUID, report: Report) -> StreamingResponse:
    async def work(context: Context) -> tuple[uuid.UUID, uuid.UUID]:
        viewer = context.require_viewer()
        async with context.read() as session:
            await reports.authorise(session, context.tenant.id, viewer, course_id)
        return context.tenant.id, viewer.id

    tenant_id, viewer_id = await operation(request, work)
    await reports.record_download(services_of(request).db, tenant_id, course_id, report.value, viewer_id)
    rows = reports.stream_report(services_of(request).db, tenant_id, course_id, report.value, viewer_id)
    return StreamingResponse(rows, media_type=CSV, headers=attachment(f"{report.value}-{course_id}.csv"))


@router.get(
    "/usage.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "One row per tenant and day."}},
    summary="Every tenant's usage per day, as CSV (platform operators)",
    description="Active users, enrolled learners, API cost units, websocket seconds and stored bytes per tenant "
    "and day (UTC), from `from` to `to` inclusive (at most 366 days).",
)
async def usage_csv(
    request: Request,
    first: Annotated[date, Query(alias="from", description="The first day (UTC), YYYY-MM-DD.")],
    last: Annotated[date, Query(alias="to", description="The last day, included.")],
    tenant_id: Annotated[uuid.UUID | None, Query(alias="tenantId", description="One tenant only.")] = None,
) -> StreamingResponse:
    async def work(context: Context) -> None:
        usage.require_operator(context.require_viewer())
        usage.checked_range(first, last)

    await operation(request, work)
    db = services_of(request).db

    async def lines() -> object:
        yield reports.csv_lines([usage.CSV_COLUMNS])
        async for row in usage.days(db, first, last, tenant_id):
            yield reports.csv_lines([usage.csv_row(row)])

    return StreamingResponse(lines(), media_type=CSV, headers=attachment(f"usage-{first}-{last}.csv"))  # type: ignore[arg-type]
