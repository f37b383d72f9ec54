"""The video pipeline with FFmpeg: a lesson's uploaded video becomes HLS (360p and 720p behind a
master playlist), with its duration and a thumbnail, served through signed URLs; failures are
retried, then end FAILED with the reason; the instructor is notified either way."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg

from lms_graphql.kit.db import Database
from lms_graphql.media.service import transcode_lesson_video
from lms_graphql.storage.backends import Storage
from tests.support.builders import build_course
from tests.support.content import ffmpeg_or_skip, make_clip, run_jobs
from tests.support.http import gql, login
from tests.support.people import PersonFactory, TenantFactory

REQUEST = """mutation($l: ID!, $s: Int!) {
  requestLessonUpload(lessonId: $l, contentType: "video/mp4", sizeBytes: $s) { fileId url method headers } }"""
CONFIRM = "mutation($f: ID!) { confirmLessonUpload(fileId: $f) { media { status } } }"
MEDIA = """query($c: ID!) { course(id: $c) { modules { lessons { media {
  status durationSeconds width height renditions { name width height bandwidth } error attempts
  playlistUrl thumbnailUrl } } } } }"""
NOTIFICATIONS = "{ notifications { eventType title body } }"


def storage_of(app: Any) -> Storage:
    storage: Storage = app.state.services.storage
    return storage


@dataclass
class Uploaded:
    course_id: uuid.UUID
    file_id: str
    teacher: str  # tokens
    learner: str
    visitor: str  # a student of the tenant, not enrolled


async def uploaded_video(
    client: httpx.AsyncClient, db: Database, make_tenant: TenantFactory, make_user: PersonFactory, body: bytes
) -> Uploaded:
    """A course whose first lesson got ``body`` as its video."""
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    course = await build_course(db, tenant, teacher.id, modules=1, lessons=1)
    teacher_token, learner_token = await login(client, teacher), await login(client, await make_user(tenant))
    await client.post(f"/api/v1/courses/{course.id}/enroll", headers={"Authorization": f"Bearer {learner_token}"})
    ticket = (await gql(client, REQUEST, {"l": str(course.lesson_ids[0]), "s": len(body)}, token=teacher_token)).data[
        "requestLessonUpload"
    ]
    sent = await client.request(ticket["method"], ticket["url"], content=body, headers=ticket["headers"])
    assert sent.status_code == 201
    confirmed = (await gql(client, CONFIRM, {"f": ticket["fileId"]}, token=teacher_token)).data
    assert confirmed["confirmLessonUpload"]["media"]["status"] == "PROCESSING"
    return Uploaded(
        course.id, ticket["fileId"], teacher_token, learner_token, await login(client, await make_user(tenant))
    )


async def media_of(client: httpx.AsyncClient, course_id: uuid.UUID, token: str) -> Any:
    reply = await gql(client, MEDIA, {"c": str(course_id)}, token=token)
    return reply.data["course"]["modules"][0]["lessons"][0]["media"]


async def test_a_lesson_video_becomes_hls_with_a_thumbnail_and_the_instructor_hears(
    client: httpx.AsyncClient,
    app: Any,
    db: Database,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    tmp_path: Path,
) -> None:
    clip = make_clip(tmp_path / "clip.mp4", seconds=3)
    video = await uploaded_video(client, db, make_tenant, make_user, clip.read_bytes())
    await run_jobs(db, storage_of(app))

    assert await media_of(client, video.course_id, video.visitor) is None  # hidden like the content
    media = await media_of(client, video.course_id, video.learner)
    assert (media["status"], media["error"], media["attempts"]) == ("READY", None, 1)
    assert 2.9 <= media["durationSeconds"] <= 3.2
    assert (media["width"], media["height"]) == (1280, 720)
    assert [(r["name"], r["width"], r["height"]) for r in media["renditions"]] == [
        ("360p", 640, 360),
        ("720p", 1280, 720),
    ]
    master = await client.get(media["playlistUrl"])
    assert master.status_code == 200
    assert master.headers["content-type"].startswith("application/vnd.apple.mpegurl")
    variants = [line for line in master.text.splitlines() if line and not line.startswith("#")]
    assert len(variants) == 2
    assert all("signature=" in line for line in variants)
    variant = await client.get(variants[0])
    segments = [line for line in variant.text.splitlines() if line and not line.startswith("#")]
    assert segments
    assert "#EXT-X-ENDLIST" in variant.text
    segment = await client.get(segments[0])
    assert segment.status_code == 200
    assert segment.headers["content-type"] == "video/mp2t"
    assert segment.content[:1] == b"G"  # an MPEG-TS packet's sync byte
    thumbnail = await client.get(media["thumbnailUrl"])
    assert (thumbnail.status_code, thumbnail.content[:2]) == (200, b"\xff\xd8")  # a JPEG
    unsigned = await client.get(variants[0].split("?")[0])
    assert unsigned.status_code == 403

    notified = (await gql(client, NOTIFICATIONS, token=video.teacher)).data["notifications"]
    assert [n["eventType"] for n in notified if n["eventType"].startswith("lesson.")] == ["lesson.media_ready"]


async def test_what_is_not_a_playable_video_fails_at_once_with_its_reason(
    client: httpx.AsyncClient, app: Any, db: Database, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    ffmpeg_or_skip()
    fake = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x13" * 4096  # an MP4 signature, no video
    video = await uploaded_video(client, db, make_tenant, make_user, fake)
    await run_jobs(db, storage_of(app))
    media = await media_of(client, video.course_id, video.teacher)
    assert (media["status"], media["attempts"], media["playlistUrl"]) == ("FAILED", 1, None)
    assert media["error"].startswith("not a playable video")
    notified = (await gql(client, NOTIFICATIONS, token=video.teacher)).data["notifications"]
    media_news = [(n["eventType"], n["body"]) for n in notified if n["eventType"].startswith("lesson.")]
    assert media_news == [("lesson.media_failed", media["error"])]


async def test_a_passing_failure_is_retried_with_backoff_and_the_last_attempt_fails_visibly(
    client: httpx.AsyncClient,
    app: Any,
    db: Database,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    owner_conn: psycopg.Connection,
    tmp_path: Path,
) -> None:
    clip = make_clip(tmp_path / "clip.mp4", seconds=1, width=320, height=240)
    video = await uploaded_video(client, db, make_tenant, make_user, clip.read_bytes())
    course_id, file_id, teacher = video.course_id, video.file_id, video.teacher
    (key,) = owner_conn.execute("SELECT object_key FROM stored_files WHERE id = %s", (file_id,)).fetchone() or ()
    storage = storage_of(app)
    await storage.store.delete(key)  # the store lost it: reading it fails, which a retry may fix

    await run_jobs(db, storage)
    job = owner_conn.execute(
        "SELECT id, status, attempts, scheduled_at > now() FROM procrastinate.procrastinate_jobs"
        " WHERE task_name = 'media.transcode' AND args->>'file_id' = %s",
        (file_id,),
    ).fetchone()
    assert job is not None
    assert job[1:] == ("todo", 1, True)  # failed once, waiting for its next attempt
    assert (await media_of(client, course_id, teacher))["status"] == "PROCESSING"
    owner_conn.execute("UPDATE procrastinate.procrastinate_jobs SET status = 'cancelled' WHERE id = %s", (job[0],))

    tenant_id = owner_conn.execute("SELECT tenant_id FROM stored_files WHERE id = %s", (file_id,)).fetchone()
    assert tenant_id is not None
    await transcode_lesson_video(db, storage, tenant_id[0], uuid.UUID(file_id), last_attempt=True)
    media = await media_of(client, course_id, teacher)
    assert (media["status"], media["attempts"]) == ("FAILED", 2)
    assert "No such file" in media["error"] or "not found" in media["error"].lower()
