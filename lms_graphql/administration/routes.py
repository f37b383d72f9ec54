"""/reports/{tenant}/{course}/{report}.csv: a course's report for the holder of the signed link
GraphQL's courseReportLink gave (no token: the signature, naming who asked, is the permission)."""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from lms_graphql.administration.reports import REPORTS, REPORTS_PATH, record_download, stream_report
from lms_graphql.errors import ErrorCode
from lms_graphql.kit.db import is_database_unavailable
from lms_graphql.rest.problems import problem, unavailable_problem


async def get_report(request: Request) -> Response:
    services = request.app.state.services
    tenant_id: uuid.UUID = request.path_params["tenant"]
    course_id: uuid.UUID = request.path_params["course"]
    report: str = request.path_params["report"]
    query = dict(request.query_params)
    key = f"{tenant_id}/{course_id}/{report}.csv"
    if report not in REPORTS or not services.storage.signer.verify("GET", key, query, ("by",), base=REPORTS_PATH):
        return problem(403, ErrorCode.FORBIDDEN.value, "this link is not valid or has expired: ask for a new one")
    requested_by = uuid.UUID(query["by"])  # signed: an id this server wrote
    try:
        await record_download(services.db, tenant_id, course_id, report, requested_by)
    except Exception as error:  # the database away, or the tenant frozen by a move: try again shortly
        if not is_database_unavailable(error):
            raise
        return unavailable_problem()
    rows = stream_report(services.db, tenant_id, course_id, report, requested_by)
    headers = {"Content-Disposition": f'attachment; filename="{report}-{course_id}.csv"', "Cache-Control": "no-store"}
    return StreamingResponse(rows, media_type="text/csv; charset=utf-8", headers=headers)


routes = [Route(REPORTS_PATH + "/{tenant:uuid}/{course:uuid}/{report:str}.csv", get_report, methods=["GET"])]
