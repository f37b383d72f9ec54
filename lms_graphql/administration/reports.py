"""A course's reports as CSV, for its instructor and the tenant's admins: the gradebook (each
learner's best graded score per assessment) and completion (lessons done, completion, the
certificate). Written as the rows come from a server-side cursor: a 20 000-learner course never
sits in memory. Downloaded over REST with a token, or through a signed link (GraphQL gives it) that
expires; each download is recorded in the audit log."""

from __future__ import annotations

import contextlib
import csv
import io
import uuid
from collections.abc import AsyncIterator, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql.administration.report_repository import ReportRepository
from lms_graphql.audit import service as audit
from lms_graphql.auth import policies
from lms_graphql.auth.viewer import Viewer
from lms_graphql.courses import service as course_service
from lms_graphql.errors import ErrorCode, LmsError, bad_input
from lms_graphql.kit.db import Database
from lms_graphql.storage.backends import Storage

REPORTS = ("gradebook", "completion")
REPORTS_PATH = "/reports"
LINK_SECONDS = 900
GRADEBOOK_HEAD = ["user_id", "email", "full_name", "enrollment_status", "progress_pct"]
COMPLETION_HEAD = [*GRADEBOOK_HEAD, "lessons_completed", "lessons_total", "enrolled_at", "completed_at"]
COMPLETION_HEAD += ["certificate_code", "certificate_issued_at"]
# A cell a spreadsheet would run as a formula starts with one of these (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def checked_report(report: str) -> str:
    if report not in REPORTS:
        raise bad_input(f"report must be one of {', '.join(REPORTS)}")
    return report


async def authorise(session: AsyncSession, tenant_id: uuid.UUID, viewer: Viewer, course_id: uuid.UUID) -> Any:
    """The course, if the viewer may export its reports: its instructor, or an admin."""
    course = await course_service.visible(session, tenant_id, viewer, course_id)
    if not policies.may_read_analytics(viewer, course.instructor_id):
        raise LmsError(ErrorCode.FORBIDDEN, "only the course's instructor or an admin may export its reports")
    return course


def signed_link(storage: Storage, tenant_id: uuid.UUID, course_id: uuid.UUID, report: str, viewer: Viewer) -> str:
    """A link to the report, valid LINK_SECONDS, naming who asked for it (the audit log says so)."""
    key = f"{tenant_id}/{course_id}/{report}.csv"
    return storage.signer.url("GET", key, LINK_SECONDS, base=REPORTS_PATH, by=str(viewer.id))


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_lines(rows: Iterable[Iterable[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([_cell(value) for value in row] for row in rows)
    return buffer.getvalue().encode()


async def record_download(
    db: Database, tenant_id: uuid.UUID, course_id: uuid.UUID, report: str, requested_by: uuid.UUID
) -> None:
    """The download, in the tenant's audit log, before a byte of it is sent."""
    async with db.tenant_transaction(tenant_id) as session:
        details = {"courseId": str(course_id), "report": report, "requestedBy": str(requested_by)}
        await audit.record(session, tenant_id, None, f"reports.{report}", details)


async def stream_report(
    db: Database, tenant_id: uuid.UUID, course_id: uuid.UUID, report: str, requested_by: uuid.UUID
) -> AsyncIterator[bytes]:
    """The CSV, a batch of rows at a time, read in one transaction (one snapshot of the course).
    Call ``record_download`` first: once the response has started, a failure can only cut it."""
    async with db.tenant_transaction(tenant_id) as session:
        reports = ReportRepository(session, tenant_id)
        if report == "gradebook":
            listed = await reports.assessments_of(course_id)
            assessments = [str(row.id) for row in listed]
            titles = [f"{row.title} (/{format(row.max_score, 'f')})" for row in listed]
            header, batches = [*GRADEBOOK_HEAD, *titles, "assessments_passed"], reports.gradebook(course_id)
        else:
            assessments, header, batches = [], COMPLETION_HEAD, reports.completion(course_id)
        yield b"\xef\xbb\xbf" + csv_lines([header])  # a BOM: spreadsheets then read UTF-8
        async with contextlib.aclosing(batches):  # a download that stops early leaves no cursor open
            async for batch in batches:
                yield csv_lines(_gradebook_row(row, assessments) if report == "gradebook" else row for row in batch)


def _gradebook_row(row: Any, assessments: list[str]) -> list[Any]:
    scores = row.scores or {}
    return [*row[:5], *(scores.get(assessment) for assessment in assessments), row.passed_count or 0]
