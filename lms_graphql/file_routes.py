"""/files/{key}: what this server serves of the object store itself, to holders of a signed URL
(no tenant, no token: the signature, made by this server for someone it authorised, is the
permission). Uploads (PUT) and downloads (GET) of the local store; HLS playlists of either
store, their entries rewritten into signed URLs of the same lifetime."""

from __future__ import annotations

import contextlib
import os
import posixpath
import uuid

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from lms_graphql.errors import ErrorCode
from lms_graphql.rest.problems import problem
from lms_graphql.storage.backends import LocalStore, Storage, content_type_of
from lms_graphql.storage.service import DOWNLOAD_SECONDS, download_url
from lms_graphql.storage.signing import FILES_PATH

PLAYLIST = "application/vnd.apple.mpegurl"
# Uploaded files are served from this origin: never sniffed into another type, and a document
# opened directly runs nothing (a PDF's script, say) with the origin's rights.
FILE_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox"}


def _storage(request: Request) -> Storage:
    storage: Storage = request.app.state.services.storage
    return storage


def _refused(message: str = "this link is not valid or has expired: ask for a new one") -> Response:
    return problem(403, ErrorCode.FORBIDDEN.value, message)


async def get_file(request: Request) -> Response:
    storage, key = _storage(request), request.path_params["key"]
    if not storage.signer.verify("GET", key, dict(request.query_params)):
        return _refused()
    if key.endswith(".m3u8"):
        return await _playlist(storage, key, request.scope.get("root_path", ""))
    store = storage.store
    if not isinstance(store, LocalStore):
        return RedirectResponse(store.download_url(key, DOWNLOAD_SECONDS), status_code=307)
    try:
        path = store.path_of(key)
    except ValueError:
        return problem(404, ErrorCode.NOT_FOUND.value, "no such file")
    if not path.is_file():
        return problem(404, ErrorCode.NOT_FOUND.value, "no such file")
    headers = {**FILE_HEADERS, "Cache-Control": "private, max-age=3600"}
    return FileResponse(path, media_type=content_type_of(key), headers=headers)


async def _playlist(storage: Storage, key: str, root_path: str) -> Response:
    """The playlist with each entry a signed URL: of this server (under ``root_path``, where a
    proxy mounts it) for playlists and local files, of the store for S3 segments."""
    try:
        text = (await storage.store.read(key)).decode("utf-8")
    except Exception:  # no such object, in either store
        return problem(404, ErrorCode.NOT_FOUND.value, "no such playlist")
    folder = posixpath.dirname(key)
    head, _, rest = key.partition("/media/")
    media = f"{head}/media/{rest.split('/')[0]}/"  # a playlist names files of its own video only
    lines = []
    for line in text.splitlines():
        entry = line.strip()
        if entry and not entry.startswith("#"):
            target = posixpath.normpath(posixpath.join(folder, entry))
            if not rest or not target.startswith(media):
                return problem(500, ErrorCode.INTERNAL.value, "the playlist points outside its media")
            line = download_url(storage, target)
            line = root_path + line if line.startswith("/") else line
        lines.append(line)
    headers = {**FILE_HEADERS, "Cache-Control": "private, no-store"}
    return Response("\n".join(lines) + "\n", media_type=PLAYLIST, headers=headers)


async def put_file(request: Request) -> Response:
    """The local store's upload: the signed content type, at most the signed size."""
    storage, key = _storage(request), request.path_params["key"]
    store = storage.store
    if not isinstance(store, LocalStore):
        return problem(404, ErrorCode.NOT_FOUND.value, "uploads go to the object store's own URL")
    query = dict(request.query_params)
    if not storage.signer.verify("PUT", key, query, ("size", "type")):
        return _refused()
    size = int(query["size"])
    sent_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if sent_type != query["type"]:
        return problem(400, ErrorCode.BAD_USER_INPUT.value, f"send the file as Content-Type: {query['type']}")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > size:
        return problem(413, ErrorCode.BAD_USER_INPUT.value, f"this upload may have at most {size} bytes")
    target = store.path_of(key)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
    received = 0
    try:
        with partial.open("wb") as sink:
            async for chunk in request.stream():
                received += len(chunk)
                if received > size:
                    return problem(413, ErrorCode.BAD_USER_INPUT.value, f"this upload may have at most {size} bytes")
                sink.write(chunk)
        os.replace(partial, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return Response(status_code=201)


routes = [
    Route(FILES_PATH + "/{key:path}", get_file, methods=["GET", "HEAD"]),
    Route(FILES_PATH + "/{key:path}", put_file, methods=["PUT"]),
]
