"""Object keys, always built here from ids the server has authorised, never taken from a client:
{tenant}/courses/{course}/lessons/{lesson}/..., {tenant}/submissions/{assessment}/{user}/...,
{tenant}/branding/... (the seed's layout). A tenant's objects all start with its id."""

from __future__ import annotations

import uuid

# The extension a key gets for each content type the server accepts.
EXTENSIONS = {
    "video/mp4": "mp4",
    "video/webm": "webm",
    "video/quicktime": "mov",
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "text/plain": "txt",
    "text/markdown": "md",
    "application/zip": "zip",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
}


def tenant_prefix(tenant_id: uuid.UUID) -> str:
    return f"{tenant_id}/"


def course_prefix(tenant_id: uuid.UUID, course_id: uuid.UUID) -> str:
    return f"{tenant_id}/courses/{course_id}/"


def lesson_prefix(tenant_id: uuid.UUID, course_id: uuid.UUID, lesson_id: uuid.UUID) -> str:
    return f"{course_prefix(tenant_id, course_id)}lessons/{lesson_id}/"


def lesson_file(tenant_id: uuid.UUID, course_id: uuid.UUID, lesson_id: uuid.UUID, file_id: uuid.UUID, kind: str) -> str:
    return f"{lesson_prefix(tenant_id, course_id, lesson_id)}{file_id}.{EXTENSIONS[kind]}"


def media_beside(video_key: str, file_id: uuid.UUID) -> str:
    """Where a lesson video's renditions, playlists and thumbnail go: a folder per source file,
    beside it (``lessons/{lesson}/media/{file}/``)."""
    return f"{video_key.rsplit('/', 1)[0]}/media/{file_id}/"


def submission_file(
    tenant_id: uuid.UUID, assessment_id: uuid.UUID, user_id: uuid.UUID, file_id: uuid.UUID, kind: str
) -> str:
    return f"{tenant_id}/submissions/{assessment_id}/{user_id}/{file_id}.{EXTENSIONS[kind]}"


def branding_file(tenant_id: uuid.UUID, file_id: uuid.UUID, kind: str) -> str:
    return f"{tenant_id}/branding/{file_id}.{EXTENSIONS[kind]}"


def data_export(tenant_id: uuid.UUID, export_id: uuid.UUID) -> str:
    return f"{tenant_id}/exports/{export_id}.zip"
