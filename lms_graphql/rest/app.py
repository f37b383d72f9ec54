"""The REST sub-application mounted at /api/v1 (FastAPI: the OpenAPI 3.1 document is generated
from the typed bodies in rest/models.py), its errors in one problem shape."""

from __future__ import annotations

import functools
import logging
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.requests import Request
from starlette.responses import Response

from lms_graphql import __version__
from lms_graphql.errors import ErrorCode, LmsError
from lms_graphql.kit.db import is_database_unavailable
from lms_graphql.kit.transaction import CommitFailed
from lms_graphql.operations.middleware import state_of
from lms_graphql.rest import content, courses, learning, reports, uploads
from lms_graphql.rest import docs as rest_docs
from lms_graphql.rest.problems import problem, problem_of_error, unavailable_problem
from lms_graphql.tenancy.resolution import ResolutionError

log = logging.getLogger("lms_graphql.rest")

PREFIX = "/api/v1"
OPENAPI_PATH = f"{PREFIX}/openapi.json"


def create_rest_app(*, docs: bool = False) -> FastAPI:
    """``docs``: also serve Swagger UI at /api/v1/docs (with GraphiQL: LMS_GRAPHIQL)."""
    rest = FastAPI(
        title="lms-graphql REST API",
        version=__version__,
        description="The REST transport of lms-graphql: the same tenants (subdomain, X-Tenant-ID or the token), "
        "tokens, roles and rules as GraphQL. Errors are application/problem+json with the GraphQL error codes.",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    rest.include_router(courses.router)
    rest.include_router(learning.router)
    rest.include_router(content.router)
    rest.include_router(uploads.router)
    rest.include_router(reports.router)
    if docs:
        rest.add_route("/docs", rest_docs.docs, include_in_schema=False)
    rest.openapi = functools.partial(_openapi_with_security, rest)  # type: ignore[method-assign]
    rest.add_exception_handler(LmsError, _lms_error)
    rest.add_exception_handler(ResolutionError, _resolution_error)
    rest.add_exception_handler(RequestValidationError, _invalid)
    rest.add_exception_handler(Exception, _unexpected)
    return rest


def _openapi_with_security(rest: FastAPI) -> dict[str, Any]:
    """FastAPI's document, naming how a call is authorised and which tenant it is for (checked
    by the middleware, not by dependencies: Swagger UI's Authorize sends both)."""
    if rest.openapi_schema is None:
        document = FastAPI.openapi(rest)
        document.setdefault("components", {})["securitySchemes"] = {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "From the login mutation.",
            },
            "tenant": {
                "type": "apiKey",
                "in": "header",
                "name": "X-Tenant-ID",
                "description": "The tenant's slug, where neither the host's subdomain nor the token names it.",
            },
        }
        document["security"] = [{"bearer": [], "tenant": []}, {"bearer": []}]
        rest.openapi_schema = document
    return rest.openapi_schema


async def _lms_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LmsError)
    return problem_of_error(exc)


async def _resolution_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ResolutionError)
    return problem(exc.status, exc.code.value, exc.message)


async def _invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors: list[dict[str, Any]] = [
        {"path": ".".join(str(part) for part in error.get("loc", ())), "message": error.get("msg", "invalid")}
        for error in exc.errors()
    ]
    detail = "; ".join(f"{error['path']}: {error['message']}" for error in errors)
    return problem(422, ErrorCode.BAD_USER_INPUT.value, detail, errors=errors)


async def _unexpected(request: Request, exc: Exception) -> Response:
    if is_database_unavailable(exc):
        return unavailable_problem()
    request_id = state_of(request.scope).request_id
    if not isinstance(exc, CommitFailed):
        log.error("request %s failed", request_id, exc_info=exc)
    return problem(500, ErrorCode.INTERNAL.value, f"Internal error. Quote request id {request_id} when reporting it.")
