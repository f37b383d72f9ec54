"""Content storage, on the local store and on a real S3 API server (moto's, over HTTP): presigned
uploads the server checks before use, signed downloads only for those who may see the content,
keys under the tenant's prefix, objects removed with what referred to them."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from lms_graphql.config import Settings
from lms_graphql.kit.db import Database
from lms_graphql.storage import keys
from lms_graphql.storage.backends import Storage, storage_for
from lms_graphql.storage.offboarding import delete_tenant_content
from tests.support.builders import BuiltCourse, build_course
from tests.support.content import keep_house_at, run_jobs, s3_server, use_s3
from tests.support.http import TEST_JWT_KEYS, app_client, gql, login
from tests.support.people import PersonFactory, TenantFactory
from tests.support.servers import CONSOLE_SCRIPT

PDF = b"%PDF-1.7\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 20 + b"%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

REQUEST = """mutation($l: ID!, $t: String!, $s: Int!) {
  requestLessonUpload(lessonId: $l, contentType: $t, sizeBytes: $s) { fileId url method headers maxBytes expiresAt } }"""
CONFIRM = "mutation($f: ID!) { confirmLessonUpload(fileId: $f) { id contentUrl media { status } } }"
CONTENT = "query($c: ID!) { course(id: $c) { modules { lessons { id contentUrl } } } }"


@dataclass
class Content:
    client: httpx.AsyncClient
    storage: Storage
    kind: str


@pytest.fixture(params=["local", "s3"])
async def content(
    request: pytest.FixtureRequest, db: Database, env_for_cli: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Content]:
    extra: dict[str, str] = {}
    with s3_server() if request.param == "s3" else contextlib.nullcontext() as endpoint:
        if endpoint is not None:
            bucket = f"lms-{uuid.uuid4().hex[:12]}"
            use_s3(monkeypatch, endpoint, bucket)
            extra["LMS_STORAGE_URL"] = f"s3://{bucket}/content"
        settings = Settings.from_env({**env_for_cli, "LMS_JWT_KEYS": TEST_JWT_KEYS, **extra})
        storage = storage_for(settings)
        async with app_client(db, env_for_cli, **extra) as client:
            yield Content(client, storage, request.param)


async def upload(http: httpx.AsyncClient, ticket: dict[str, Any], body: bytes) -> httpx.Response:
    """What a client does with a ticket: send the bytes where it says (this app, or the S3 server)."""
    url = ticket["url"]
    if url.startswith("http://testserver"):
        return await http.request(ticket["method"], url, content=body, headers=ticket["headers"])
    async with httpx.AsyncClient() as outside:
        return await outside.request(ticket["method"], url, content=body, headers=ticket["headers"])


async def fetch(http: httpx.AsyncClient, url: str) -> httpx.Response:
    if url.startswith("http://testserver"):
        return await http.get(url, follow_redirects=False)
    async with httpx.AsyncClient() as outside:
        return await outside.get(url)


async def classroom(
    http: httpx.AsyncClient, db: Database, make_tenant: TenantFactory, make_user: PersonFactory
) -> tuple[Any, BuiltCourse, str, str, str]:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    course = await build_course(db, tenant, teacher.id, modules=1, lessons=2)
    teacher_token, learner_token, visitor_token = (
        await login(http, teacher),
        await login(http, await make_user(tenant)),
        await login(http, await make_user(tenant)),
    )
    enrolled = await gql(http, "mutation($c: ID!) { enrollInCourse(courseId: $c) { id } }", {"c": str(course.id)},
                         token=learner_token)  # fmt: skip
    assert enrolled.data
    return tenant, course, teacher_token, learner_token, visitor_token


async def test_lesson_content_uploaded_checked_and_served_signed(
    content: Content, db: Database, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    http = content.client
    tenant, course, teacher, learner, visitor = await classroom(http, db, make_tenant, make_user)
    lesson = str(course.lesson_ids[0])
    refused = await gql(http, REQUEST, {"l": lesson, "t": "application/pdf", "s": len(PDF)}, token=learner)
    assert refused.codes == ["FORBIDDEN"]
    wrong_type = await gql(http, REQUEST, {"l": lesson, "t": "application/x-msdownload", "s": 10}, token=teacher)
    assert wrong_type.codes == ["BAD_USER_INPUT"]

    ticket = (await gql(http, REQUEST, {"l": lesson, "t": "application/pdf", "s": len(PDF)}, token=teacher)).data[
        "requestLessonUpload"
    ]
    assert ticket["method"] == "PUT"
    assert ticket["headers"] == {"Content-Type": "application/pdf"}
    not_yet = await gql(http, CONFIRM, {"f": ticket["fileId"]}, token=teacher)
    assert not_yet.codes == ["BAD_USER_INPUT"]
    sent = await upload(http, ticket, PDF)
    assert sent.status_code in (200, 201), sent.text
    confirmed = (await gql(http, CONFIRM, {"f": ticket["fileId"]}, token=teacher)).data["confirmLessonUpload"]
    assert confirmed["media"] is None  # a PDF: no video pipeline
    again = await gql(http, CONFIRM, {"f": ticket["fileId"]}, token=teacher)
    assert again.codes == ["BAD_USER_INPUT"]

    prefix = keys.lesson_prefix(tenant.id, course.id, course.lesson_ids[0])
    assert await content.storage.store.size_of(f"{prefix}{ticket['fileId']}.pdf") == len(PDF)
    for token in (teacher, learner):
        lessons = (await gql(http, CONTENT, {"c": str(course.id)}, token=token)).data["course"]["modules"][0]["lessons"]
        url = lessons[0]["contentUrl"]
        assert url is not None
        assert lessons[1]["contentUrl"] is None  # nothing uploaded there
        downloaded = await fetch(http, url)
        if content.kind == "local":
            assert downloaded.status_code == 200
            assert downloaded.content == PDF
            assert downloaded.headers["content-type"] == "application/pdf"
            tampered = await http.get(url.replace("signature=", "signature=x"))
            assert (tampered.status_code, tampered.json()["code"]) == (403, "FORBIDDEN")
        else:
            assert (downloaded.status_code, downloaded.content) == (200, PDF)
    hidden = (await gql(http, CONTENT, {"c": str(course.id)}, token=visitor)).data["course"]["modules"][0]["lessons"]
    assert hidden[0]["contentUrl"] is None  # not enrolled


async def test_an_upload_that_is_not_what_it_claims_is_refused_and_removed(
    content: Content, db: Database, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    http = content.client
    tenant, course, teacher, _, _ = await classroom(http, db, make_tenant, make_user)
    lesson = str(course.lesson_ids[0])
    ticket = (await gql(http, REQUEST, {"l": lesson, "t": "application/pdf", "s": len(PNG)}, token=teacher)).data[
        "requestLessonUpload"
    ]
    await upload(http, ticket, PNG)
    refused = await gql(http, CONFIRM, {"f": ticket["fileId"]}, token=teacher)
    assert refused.codes == ["BAD_USER_INPUT"]
    assert "not application/pdf" in refused.body["errors"][0]["message"]
    staged = f"{keys.lesson_prefix(tenant.id, course.id, course.lesson_ids[0])}{ticket['fileId']}.pdf.upload"
    assert await content.storage.store.size_of(staged) is None

    short = (await gql(http, REQUEST, {"l": lesson, "t": "application/pdf", "s": len(PDF) + 5}, token=teacher)).data[
        "requestLessonUpload"
    ]
    if content.kind == "local":  # the app refuses more than signed; S3 checks the signed length itself
        too_long = await upload(http, {**short, "url": short["url"]}, PDF + b"x" * 10)
        assert too_long.status_code == 413
    await upload(http, short, PDF)
    wrong_size = await gql(http, CONFIRM, {"f": short["fileId"]}, token=teacher)
    assert wrong_size.codes == ["BAD_USER_INPUT"]
    assert "bytes" in wrong_size.body["errors"][0]["message"]


async def test_replaced_and_deleted_content_leaves_no_object_behind(
    content: Content, db: Database, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    http = content.client
    tenant, course, teacher, _, _ = await classroom(http, db, make_tenant, make_user)
    lesson = str(course.lesson_ids[0])
    files = []
    for _ in range(2):
        ticket = (await gql(http, REQUEST, {"l": lesson, "t": "application/pdf", "s": len(PDF)}, token=teacher)).data[
            "requestLessonUpload"
        ]
        await upload(http, ticket, PDF)
        assert (await gql(http, CONFIRM, {"f": ticket["fileId"]}, token=teacher)).data
        files.append(ticket["fileId"])
    await run_jobs(db, content.storage)
    prefix = keys.lesson_prefix(tenant.id, course.id, course.lesson_ids[0])
    store = content.storage.store
    assert await store.size_of(f"{prefix}{files[0]}.pdf") is None  # replaced: removed once committed
    assert await store.size_of(f"{prefix}{files[1]}.pdf") == len(PDF)

    deleted = await gql(http, "mutation($l: ID!) { deleteLesson(id: $l) { id } }", {"l": lesson}, token=teacher)
    assert deleted.data
    await run_jobs(db, content.storage)
    assert await store.size_of(f"{prefix}{files[1]}.pdf") is None


async def test_a_tenants_objects_go_with_a_prefix_delete(
    content: Content, db: Database, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    http = content.client
    tenant, course, teacher, _, _ = await classroom(http, db, make_tenant, make_user)
    _, other_course, other_teacher, _, _ = await classroom(http, db, make_tenant, make_user)
    for lesson, token in ((course.lesson_ids[0], teacher), (other_course.lesson_ids[0], other_teacher)):
        ticket = await gql(http, REQUEST, {"l": str(lesson), "t": "application/pdf", "s": len(PDF)}, token=token)
        await upload(http, ticket.data["requestLessonUpload"], PDF)
        assert (await gql(http, CONFIRM, {"f": ticket.data["requestLessonUpload"]["fileId"]}, token=token)).data
    assert await delete_tenant_content(db, content.storage, tenant.id) == 1
    assert await delete_tenant_content(db, content.storage, tenant.id) == 0  # again: nothing left
    gone = (await gql(http, CONTENT, {"c": str(course.id)}, token=teacher)).data["course"]
    assert gone["modules"][0]["lessons"][0]["contentUrl"] is None
    lessons = (await gql(http, CONTENT, {"c": str(other_course.id)}, token=other_teacher)).data["course"]
    assert (await fetch(http, lessons["modules"][0]["lessons"][0]["contentUrl"])).content == PDF  # untouched


async def test_offboarding_a_tenant_removes_its_content_from_the_command_line(
    client: httpx.AsyncClient,
    db: Database,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    env_for_cli: dict[str, str],
) -> None:
    tenant, course, teacher, _, _ = await classroom(client, db, make_tenant, make_user)
    ticket = (await gql(client, REQUEST, {"l": str(course.lesson_ids[0]), "t": "application/pdf", "s": len(PDF)},
                        token=teacher)).data["requestLessonUpload"]  # fmt: skip
    await upload(client, ticket, PDF)
    assert (await gql(client, CONFIRM, {"f": ticket["fileId"]}, token=teacher)).data

    async def run(*argv: str) -> tuple[int, str]:
        command = await asyncio.create_subprocess_exec(
            CONSOLE_SCRIPT, "tenant", *argv, env={**env_for_cli, "LMS_JWT_KEYS": TEST_JWT_KEYS},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await command.communicate()
        return command.returncode or 0, out.decode()

    assert (await run("delete-content", tenant.slug, "--confirm", "other"))[0] == 2
    code, said = await run("delete-content", tenant.slug, "--confirm", tenant.slug)
    assert (code, "deactivate it first" in said) == (2, True)
    assert (await run("deactivate", tenant.slug))[0] == 0
    code, said = await run("delete-content", tenant.slug, "--confirm", tenant.slug)
    assert (code, said.strip()) == (0, f"removed 1 stored objects of tenant {tenant.slug}")
    folder = Path(env_for_cli["LMS_DATA_DIR"]) / "objects" / str(tenant.id)
    assert not folder.exists()


SUBMISSION_UPLOAD = """mutation($a: ID!, $t: String!, $s: Int!) {
  requestSubmissionUpload(assessmentId: $a, contentType: $t, sizeBytes: $s) { fileId url method headers } }"""
CONFIRM_SUBMISSION = "mutation($f: ID!) { confirmSubmissionUpload(fileId: $f) { id contentType sizeBytes url } }"
SUBMIT_FILES = """mutation($a: ID!, $f: [ID!]) { submitAssessment(assessmentId: $a, answers: {}, fileIds: $f) {
  id files { id contentType sizeBytes url } } }"""


async def test_a_submission_carries_its_files_seen_by_its_author_and_graders_only(
    client: httpx.AsyncClient, db: Database, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    from tests.support.quizzes import classroom as quiz_room
    from tests.support.quizzes import learner

    room = await quiz_room(client, make_tenant, make_user, db)
    assignment = await room.assessment(client, assessmentType="ASSIGNMENT", questions=[], maxAttempts=3)
    author, token = await learner(client, make_user, room)
    _, classmate = await learner(client, make_user, room)
    stranger = await login(client, await make_user(room.teacher.tenant))
    refused = await gql(client, SUBMISSION_UPLOAD, {"a": assignment, "t": "application/pdf", "s": 10}, token=stranger)
    assert refused.codes == ["FORBIDDEN"]

    ticket = (
        await gql(client, SUBMISSION_UPLOAD, {"a": assignment, "t": "application/pdf", "s": len(PDF)}, token=token)
    ).data["requestSubmissionUpload"]
    assert f"/{room.teacher.tenant.id}/submissions/{assignment}/{author.id}/" in ticket["url"].replace("%2F", "/")
    await upload(client, ticket, PDF)
    confirmed = (await gql(client, CONFIRM_SUBMISSION, {"f": ticket["fileId"]}, token=token)).data
    assert confirmed["confirmSubmissionUpload"]["sizeBytes"] == len(PDF)
    not_theirs = await gql(client, SUBMIT_FILES, {"a": assignment, "f": [ticket["fileId"]]}, token=classmate)
    assert not_theirs.codes == ["BAD_USER_INPUT"]

    submitted = (await gql(client, SUBMIT_FILES, {"a": assignment, "f": [ticket["fileId"]]}, token=token)).data
    (file,) = submitted["submitAssessment"]["files"]
    assert (file["id"], file["contentType"]) == (ticket["fileId"], "application/pdf")
    graded_view = await gql(
        client, "query($s: ID!) { submission(id: $s) { files { url } } }",
        {"s": submitted["submitAssessment"]["id"]}, token=room.teacher_token,
    )  # fmt: skip
    (seen,) = graded_view.data["submission"]["files"]
    assert (await client.get(seen["url"])).content == PDF
    hidden = await gql(
        client, "query($s: ID!) { submission(id: $s) { id } }", {"s": submitted["submitAssessment"]["id"]},
        token=classmate,
    )  # fmt: skip
    assert hidden.codes == ["NOT_FOUND"]
    again = await gql(client, SUBMIT_FILES, {"a": assignment, "f": [ticket["fileId"]]}, token=token)
    assert again.codes == ["BAD_USER_INPUT"]


async def test_concurrent_confirmations_for_one_lesson_take_turns(
    client: httpx.AsyncClient, db: Database, make_tenant: TenantFactory, make_user: PersonFactory,
    owner_conn: Any,
) -> None:  # fmt: skip
    _, course, teacher, _, _ = await classroom(client, db, make_tenant, make_user)
    lesson = str(course.lesson_ids[0])
    tickets = []
    for _ in range(4):
        reply = await gql(client, REQUEST, {"l": lesson, "t": "application/pdf", "s": len(PDF)}, token=teacher)
        tickets.append(reply.data["requestLessonUpload"])
        await upload(client, tickets[-1], PDF)
    replies = await asyncio.gather(*(gql(client, CONFIRM, {"f": t["fileId"]}, token=teacher) for t in tickets))
    assert all(reply.status == 200 and "errors" not in reply.body for reply in replies), [r.body for r in replies]
    ready = owner_conn.execute(
        "SELECT count(*) FROM stored_files WHERE lesson_id = %s AND status = 'ready'", (course.lesson_ids[0],)
    ).fetchone()
    assert ready == (1,)


async def test_a_ticket_used_again_after_confirmation_changes_nothing_and_tickets_are_capped(
    client: httpx.AsyncClient, app: Any, db: Database, make_tenant: TenantFactory, make_user: PersonFactory,
    owner_conn: Any,
) -> None:  # fmt: skip
    from lms_graphql.storage.service import MAX_PENDING

    _, course, teacher, _, _ = await classroom(client, db, make_tenant, make_user)
    lesson = str(course.lesson_ids[0])
    ticket = (await gql(client, REQUEST, {"l": lesson, "t": "application/pdf", "s": len(PDF)}, token=teacher)).data[
        "requestLessonUpload"
    ]
    await upload(client, ticket, PDF)
    url = (await gql(client, CONFIRM, {"f": ticket["fileId"]}, token=teacher)).data["confirmLessonUpload"]["contentUrl"]
    await upload(client, ticket, PNG)  # the ticket is still valid: it writes where nothing reads
    assert (await client.get(url)).content == PDF
    forged = await client.get(url.split("signature=")[0] + "signature=%C3%A9")
    assert (forged.status_code, forged.json()["code"]) == (403, "FORBIDDEN")

    replies = [
        await gql(client, REQUEST, {"l": lesson, "t": "application/pdf", "s": len(PDF)}, token=teacher)
        for _ in range(MAX_PENDING + 1)
    ]
    assert [reply.codes for reply in replies[-2:]] == [[], ["RATE_LIMITED"]]
    await upload(client, replies[0].data["requestLessonUpload"], PDF)  # uploaded, never confirmed
    storage = app.state.services.storage
    await keep_house_at(db, storage, datetime.now(UTC) + timedelta(days=2))
    await run_jobs(db, storage)
    left = owner_conn.execute(
        "SELECT count(*) FROM stored_files WHERE lesson_id = %s AND status = 'pending'", (course.lesson_ids[0],)
    ).fetchone()
    assert left == (0,)
    staged = f"{keys.lesson_prefix(course_tenant(owner_conn, course), course.id, course.lesson_ids[0])}"
    assert await storage.store.size_of(f"{staged}{replies[0].data['requestLessonUpload']['fileId']}.pdf.upload") is None


def course_tenant(owner_conn: Any, course: BuiltCourse) -> uuid.UUID:
    row = owner_conn.execute("SELECT tenant_id FROM courses WHERE id = %s", (course.id,)).fetchone()
    return uuid.UUID(str(row[0]))
