"""/exports/{tenant}/{export}: an archive of a person's data, to the holder of the signed link
the API gave (no token: the signature is the permission); each download is audited."""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from lms_graphql.errors import ErrorCode, LmsError
from lms_graphql.file_routes import FILE_HEADERS
from lms_graphql.kit.db import is_database_unavailable
from lms_graphql.privacy.exports import EXPORTS_PATH, export_for_download
from lms_graphql.rest.problems import problem, unavailable_problem
from lms_graphql.storage.backends import LocalStore

REDIRECT_SECONDS = 300


async def get_export(request: Request) -> Response:
    services = request.app.state.services
    tenant_id: uuid.UUID = request.path_params["tenant"]
    export_id: uuid.UUID = request.path_params["export"]
    query = dict(request.query_params)
    if not services.storage.signer.verify("GET", f"{tenant_id}/{export_id}", query, base=EXPORTS_PATH):
        return problem(403, ErrorCode.FORBIDDEN.value, "this link is not valid or has expired: ask for a new one")
    try:
        async with services.db.tenant_transaction(tenant_id) as session:
            row = await export_for_download(session, tenant_id, export_id)
    except LmsError as error:
        return problem(404, error.code.value, error.message)
    except Exception as error:  # the database away, or the tenant frozen by a move: try again shortly
        if not is_database_unavailable(error):
            raise
        return unavailable_problem()
    store = services.storage.store
    headers = {**FILE_HEADERS, "Cache-Control": "private, no-store"}
    if not isinstance(store, LocalStore):
        return RedirectResponse(store.download_url(row.object_key, REDIRECT_SECONDS), status_code=307, headers=headers)
    path = store.path_of(row.object_key)
    if not path.is_file():
        return problem(404, ErrorCode.NOT_FOUND.value, "this export is no longer available: ask for a new one")
    name = f"personal-data-{export_id}.zip"
    return FileResponse(path, media_type="application/zip", headers=headers, filename=name)


routes = [Route(EXPORTS_PATH + "/{tenant:uuid}/{export:uuid}", get_export, methods=["GET"])]
