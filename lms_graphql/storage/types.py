"""GraphQL types of stored content: upload tickets, files, a lesson video's media."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from starlette.requests import HTTPConnection
from strawberry.scalars import JSON

from lms_graphql.context import Context, Info
from lms_graphql.storage.service import Ticket, download_url


def public_url(connection: HTTPConnection, url: str) -> str:
    """A URL of this server (a path) made absolute for the client, as it reached us."""
    if not url.startswith("/"):
        return url
    base = str(connection.base_url).rstrip("/")
    if base.startswith("ws"):  # asked over a websocket: the file is fetched over HTTP(S)
        base = "http" + base.removeprefix("ws")
    return base + url


def signed_url(ctx: Context, key: str) -> str:
    return public_url(ctx.request, download_url(ctx.services.storage, key))


@strawberry.type(
    description="Where to upload a file: send its bytes with `method` to `url` with `headers` before expiresAt, "
    "then confirm it (confirmLessonUpload, confirmSubmissionUpload). The server checks it before anything uses it."
)
class UploadTicket:
    file_id: strawberry.ID = strawberry.field(description="The file's id: confirm it with this.")
    url: str = strawberry.field(description="Where to send the bytes (the object store's or this server's).")
    method: str = strawberry.field(description="The HTTP method to send them with (PUT).")
    headers: JSON = strawberry.field(description="Headers the upload must carry (its Content-Type).")
    expires_at: datetime = strawberry.field(description="The ticket is valid until then (one hour).")
    max_bytes: int = strawberry.field(description="The most bytes a file of this kind may have.")

    @classmethod
    def of(cls, ctx: Context, ticket: Ticket) -> UploadTicket:
        headers = JSON(dict(ticket.target.headers))
        return cls(
            file_id=strawberry.ID(str(ticket.file.id)),
            url=public_url(ctx.request, ticket.target.url),
            method=ticket.target.method,
            headers=headers,
            expires_at=ticket.file.upload_expires_at,
            max_bytes=ticket.max_bytes,
        )


@strawberry.type(description="An uploaded file the server checked: its type is what its first bytes say.")
class StoredFile:
    id: strawberry.ID = strawberry.field(description="Opaque id of the file.")
    content_type: str = strawberry.field(description="Its media type, e.g. application/pdf.")
    size_bytes: int | None = strawberry.field(description="Its size; null until confirmed.")
    created_at: datetime = strawberry.field(description="When its upload was requested (UTC).")
    object_key: strawberry.Private[str]
    ready: strawberry.Private[bool]

    @classmethod
    def from_row(cls, row: Any) -> StoredFile:
        return cls(
            id=strawberry.ID(str(row.id)),
            content_type=row.content_type,
            size_bytes=row.size_bytes,
            created_at=row.created_at,
            object_key=row.object_key,
            ready=row.status == "ready",
        )

    @strawberry.field(description="A signed URL to download it, valid one hour; null until confirmed.")
    def url(self, info: Info) -> str | None:
        return signed_url(info.context, self.object_key) if self.ready else None


@strawberry.enum(description="Where a lesson video is in the pipeline (upload, transcode, metadata, notify).")
class MediaStatus(Enum):
    _value_: str  # for mypy: @strawberry.enum unwraps each enum_value, so members hold the string
    PROCESSING = strawberry.enum_value("processing", description="Being transcoded (or waiting for a retry).")
    READY = strawberry.enum_value("ready", description="Playable: playlistUrl and thumbnailUrl are set.")
    FAILED = strawberry.enum_value("failed", description="Could not be processed: error says why.")


@strawberry.type(description="A rendition of a lesson video: one quality of its adaptive stream.")
class MediaRendition:
    name: str = strawberry.field(description="360p, 720p or 1080p.")
    width: int = strawberry.field(description="Pixels wide.")
    height: int = strawberry.field(description="Pixels high.")
    bandwidth: int = strawberry.field(description="Bits per second it needs (video and audio).")


@strawberry.type(
    description="What the video pipeline made of a lesson's uploaded video: HLS renditions (360p, 720p; 1080p when "
    "the source has it) behind one master playlist, its duration and a thumbnail."
)
class LessonMedia:
    status: MediaStatus = strawberry.field(description="PROCESSING, READY, or FAILED (see error).")
    duration_seconds: float | None = strawberry.field(description="The video's length; null until READY.")
    width: int | None = strawberry.field(description="The source's width in pixels; null until READY.")
    height: int | None = strawberry.field(description="The source's height in pixels; null until READY.")
    renditions: list[MediaRendition] = strawberry.field(description="The qualities made, lowest first.")
    error: str | None = strawberry.field(description="Why it FAILED (after retries); null otherwise.")
    attempts: int = strawberry.field(description="How many times the pipeline ran on it.")
    updated_at: datetime = strawberry.field(description="When its status last changed (UTC).")
    playlist_key: strawberry.Private[str | None]
    thumbnail_key: strawberry.Private[str | None]
    key: strawberry.Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: Any) -> LessonMedia:
        return cls(
            status=MediaStatus(row.status),
            duration_seconds=float(row.duration_seconds) if row.duration_seconds is not None else None,
            width=row.width,
            height=row.height,
            renditions=[
                MediaRendition(name=r["name"], width=r["width"], height=r["height"], bandwidth=r["bandwidth"])
                for r in row.renditions
            ],
            error=row.error,
            attempts=row.attempts,
            updated_at=row.updated_at,
            playlist_key=row.playlist_key,
            thumbnail_key=row.thumbnail_key,
            key=row.id,
        )

    @strawberry.field(
        description="The HLS master playlist (application/vnd.apple.mpegurl), a signed URL valid one hour whose "
        "playlists and segments are signed alike; null until READY."
    )
    def playlist_url(self, info: Info) -> str | None:
        return signed_url(info.context, self.playlist_key) if self.playlist_key else None

    @strawberry.field(description="A JPEG frame of the video, a signed URL valid one hour; null until READY.")
    def thumbnail_url(self, info: Info) -> str | None:
        return signed_url(info.context, self.thumbnail_key) if self.thumbnail_key else None
