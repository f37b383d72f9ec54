"""A person's data: the catalog of personal columns against the database's own, the export a job
builds and a signed link delivers, and an erasure that leaves nothing that names them."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
import zipfile
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest

from lms_graphql.kit.db import Database
from lms_graphql.models.personal_data import CATALOG, ERASED, ERASED_NAME, personal_columns
from lms_graphql.storage.backends import Storage
from tests.support.content import run_jobs
from tests.support.http import LOGIN, gql, login
from tests.support.people import PASSWORD, Person, PersonFactory, TenantFactory
from tests.support.quizzes import QUESTIONS, Classroom, classroom

# Every column holding personal data. Adding one to a table fails test_every_column_is_classified
# until models/personal_data.py classifies it; classifying it personal changes this list, for review.
PERSONAL_COLUMNS = [
    "audit_log.details",
    "data_exports.object_key",
    "domain_events.payload",
    "idempotency_keys.response_body",
    "notifications.body",
    "notifications.payload",
    "notifications.title",
    "stored_files.object_key",
    "submission_grades.feedback",
    "submissions.answers",
    "submissions.feedback",
    "users.avatar_url",
    "users.email",
    "users.full_name",
    "users.last_login_at",
    "users.password_hash",
]

NAME = "Ada Quillfeather"
EMAIL_OF = "ada.{}@uni.example"
ESSAY = {"id": "why", "type": "essay", "prompt": "Why?", "points": 2}
SUBMIT = """mutation($a: ID!, $answers: JSON!) { submitAssessment(assessmentId: $a, answers: $answers) { id } }"""
GRADE = """mutation($s: ID!, $f: String) { gradeSubmission(submissionId: $s, score: 95, feedback: $f) { status } }"""
CREATE_USER = """mutation($i: CreateUserInput!) { createUser(input: $i) { id email fullName } }"""
ERASE = "mutation($u: ID!) { eraseUser(id: $u) { id email fullName avatarUrl isActive } }"
EXPORT_MINE = "mutation { exportMyData { id status downloadUrl } }"
EXPORT_USER = "mutation($u: ID!) { exportUserData(userId: $u) { id status } }"
EXPORT = "query($e: ID!) { dataExport(id: $e) { status sizeBytes expiresAt downloadUrl error } }"
PROGRESS = "mutation($l: ID!, $p: Int!) { updateLessonProgress(lessonId: $l, progress: $p) { progressPct } }"
PDF = b"%PDF-1.7\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 20 + b"%%EOF\n"
UPLOAD = """mutation($a: ID!, $t: String!, $s: Int!) {
  requestSubmissionUpload(assessmentId: $a, contentType: $t, sizeBytes: $s) { fileId url method headers } }"""
CONFIRM = "mutation($f: ID!) { confirmSubmissionUpload(fileId: $f) { id } }"
SUBMIT_FILE = """mutation($a: ID!, $f: [ID!]) { submitAssessment(assessmentId: $a, answers: {}, fileIds: $f) { id } }"""
VERIFY = "query($c: String!) { verifyCertificate(code: $c) { learnerName courseTitle } }"


def test_every_column_is_classified(owner_conn: psycopg.Connection) -> None:
    rows = owner_conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' "
        "AND table_name IN (SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' "
        "AND column_name = 'tenant_id' AND table_name <> 'tenants')"
    ).fetchall()
    in_database: dict[str, set[str]] = {}
    for table, column in rows:
        in_database.setdefault(table, set()).add(column)
    assert set(in_database) == set(CATALOG), "a tenant table is missing from models/personal_data.py, or gone"
    for table, columns in in_database.items():
        assert columns == set(CATALOG[table].columns), f"{table}: classify each column in models/personal_data.py"
        assert set(CATALOG[table].subject) <= columns
    assert personal_columns() == PERSONAL_COLUMNS


@dataclass
class Learner:
    room: Classroom
    person: Person
    token: str
    admin_token: str
    quiz: str
    certificate_code: str
    attachment: str  # the object key of a submitted PDF


async def learner_with_history(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> Learner:
    """A learner who enrolled, answered (a short text and an essay), was graded with feedback
    naming them, completed the course and holds its certificate."""
    room = await classroom(client, make_tenant, make_user, db)
    admin = await make_user(room.teacher.tenant, "admin")
    admin_token = await login(client, admin)
    email = EMAIL_OF.format(uuid.uuid4().hex[:6])
    created = await gql(
        client,
        CREATE_USER,
        {"i": {"email": email, "fullName": NAME, "role": "STUDENT", "password": PASSWORD}},
        token=admin_token,
    )
    person = Person(room.teacher.tenant, uuid.UUID(created.data["createUser"]["id"]), email, "student")
    token = await login(client, person)
    quiz = await room.assessment(client, questions=[*QUESTIONS, ESSAY])
    await gql(client, "mutation($c: ID!) { enrollInCourse(courseId: $c) { id } }", {"c": str(room.course_id)},
              token=token)  # fmt: skip
    answers = {"capital": "a", "primes": ["2", "5"], "rls": True, "city": "Ada's home town", "code": "Fe"}
    submitted = await gql(client, SUBMIT, {"a": quiz, "answers": {**answers, "why": f"I am {NAME}."}}, token=token)
    submission = submitted.data["submitAssessment"]["id"]
    graded = await gql(client, GRADE, {"s": submission, "f": f"Well argued, {NAME}"}, token=room.teacher_token)
    assert graded.data["gradeSubmission"]["status"] == "GRADED"
    await gql(client, PROGRESS, {"l": str(room.lesson_ids[0]), "p": 100}, token=token)
    dashboard = await gql(client, "{ myDashboard { certificates { verificationCode } } }", token=token)
    (certificate,) = dashboard.data["myDashboard"]["certificates"]
    attachment = await attach(client, room, token)
    return Learner(room, person, token, admin_token, quiz, certificate["verificationCode"], attachment)


async def attach(client: httpx.AsyncClient, room: Classroom, token: str) -> str:
    """Submits an assignment with a PDF; returns the object's key."""
    assignment = await room.assessment(client, assessmentType="ASSIGNMENT", questions=[])
    asked = await gql(client, UPLOAD, {"a": assignment, "t": "application/pdf", "s": len(PDF)}, token=token)
    ticket = asked.data["requestSubmissionUpload"]
    sent = await client.request(ticket["method"], ticket["url"], content=PDF, headers=ticket["headers"])
    assert sent.status_code == 201
    assert (await gql(client, CONFIRM, {"f": ticket["fileId"]}, token=token)).data
    assert (await gql(client, SUBMIT_FILE, {"a": assignment, "f": [ticket["fileId"]]}, token=token)).data
    return str(ticket["url"].split("/files/")[1].split("?")[0].replace("%2F", "/").removesuffix(".upload"))


def storage_of(app: Any) -> Storage:
    storage: Storage = app.state.services.storage
    return storage


async def test_a_person_exports_their_data_through_a_job_and_a_signed_audited_link(
    app: Any, client: httpx.AsyncClient, db: Database, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    ada = await learner_with_history(client, make_tenant, make_user, db)
    classmate = await login(client, await make_user(ada.person.tenant))
    asked = (await gql(client, EXPORT_MINE, token=ada.token)).data["exportMyData"]
    assert (asked["status"], asked["downloadUrl"]) == ("PENDING", None)
    assert (await gql(client, EXPORT, {"e": asked["id"]}, token=classmate)).codes == ["NOT_FOUND"]
    assert (await gql(client, EXPORT_USER, {"u": str(ada.person.id)}, token=classmate)).codes == ["FORBIDDEN"]
    await run_jobs(db, storage_of(app))

    ready = (await gql(client, EXPORT, {"e": asked["id"]}, token=ada.token)).data["dataExport"]
    assert ready["status"] == "READY", ready
    assert (await gql(client, EXPORT, {"e": asked["id"]}, token=ada.admin_token)).data["dataExport"]["downloadUrl"]
    tampered = await client.get(ready["downloadUrl"].replace("signature=", "signature=x"))
    assert (tampered.status_code, tampered.json()["code"]) == (403, "FORBIDDEN")
    downloaded = await client.get(ready["downloadUrl"])
    assert downloaded.status_code == 200, downloaded.text
    assert len(downloaded.content) == ready["sizeBytes"]

    archive = zipfile.ZipFile(io.BytesIO(downloaded.content))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["userId"] == str(ada.person.id)
    tables = {name: json.loads(archive.read(f"tables/{name}.json")) for name in manifest["tables"]}
    (user,) = tables["users"]
    assert (user["email"], user["full_name"]) == (ada.person.email, NAME)
    assert "password_hash" not in user
    assert len(tables["enrollments"]) == len(tables["certificates"]) == 1
    assert archive.read(f"files/{ada.attachment}") == PDF
    assert manifest["files"] == [f"files/{ada.attachment}"]
    submission = next(row for row in tables["submissions"] if row["answers"])
    assert submission["answers"]["why"] == f"I am {NAME}."
    assert [grade["feedback"] for grade in tables["submission_grades"]] == [f"Well argued, {NAME}"]
    assert all(tables[name] for name in ("notifications", "lesson_progress", "domain_events"))
    # Entries they made, and entries about them (the admin who created their account).
    assert {entry["action"] for entry in tables["audit_log"]} >= {"submitAssessment", "exportMyData", "createUser"}
    assert all(row["user_id"] == str(ada.person.id) for row in tables["notifications"])

    async with db.tenant_transaction(ada.person.tenant.id) as session:
        from sqlalchemy import text

        actions = (await session.execute(text("SELECT action FROM audit_log ORDER BY occurred_at"))).scalars().all()
    assert {"privacy.exportReady", "privacy.exportDownloaded"} <= set(actions)
    by_admin = await gql(client, EXPORT_USER, {"u": str(ada.person.id)}, token=ada.admin_token)
    assert by_admin.data["exportUserData"]["status"] == "PENDING"


async def test_erasure_leaves_nothing_that_names_the_person_and_keeps_what_others_count(
    app: Any,
    client: httpx.AsyncClient,
    db: Database,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    owner_conn: psycopg.Connection,
) -> None:
    ada = await learner_with_history(client, make_tenant, make_user, db)
    tenant_id = ada.person.tenant.id
    await gql(client, EXPORT_MINE, token=ada.token)
    await run_jobs(db, storage_of(app))
    statistics = "query($c: ID!) { courseAnalytics(courseId: $c) { enrollmentCount completionRate averageProgress averageScore } }"
    before = (await gql(client, statistics, {"c": str(ada.room.course_id)}, token=ada.admin_token)).body

    assert (await gql(client, ERASE, {"u": str(ada.person.id)}, token=ada.token)).codes == ["FORBIDDEN"]
    erased = (await gql(client, ERASE, {"u": str(ada.person.id)}, token=ada.admin_token)).data["eraseUser"]
    assert (erased["fullName"], erased["avatarUrl"], erased["isActive"]) == (ERASED_NAME, None, False)
    assert erased["email"].endswith("@erased.invalid")

    # Nothing left anywhere that says who they were: no table, no outbox payload, no audit entry.
    for table, data in CATALOG.items():
        for column in data.columns:
            found = owner_conn.execute(
                f"SELECT count(*) FROM {table} WHERE tenant_id = %s AND ({column}::text ILIKE %s OR {column}::text "
                "ILIKE %s)",
                (tenant_id, f"%{NAME}%", f"%{ada.person.email}%"),
            ).fetchone()
            assert found == (0,), f"{table}.{column} still names the person"
    (answers,) = owner_conn.execute(
        "SELECT answers FROM submissions WHERE tenant_id = %s AND user_id = %s AND answers <> '{}'",
        (tenant_id, ada.person.id),
    ).fetchone() or (None,)
    assert answers["why"] == answers["city"] == ERASED
    assert (answers["capital"], answers["rls"]) == ("a", True)  # choices stay: question statistics
    leftovers = owner_conn.execute(
        "SELECT (SELECT count(*) FROM notifications WHERE tenant_id = %(t)s AND user_id = %(u)s), "
        "(SELECT count(*) FROM data_exports WHERE tenant_id = %(t)s AND user_id = %(u)s), "
        "(SELECT count(*) FROM submission_grades WHERE tenant_id = %(t)s AND feedback IS NOT NULL)",
        {"t": tenant_id, "u": ada.person.id},
    ).fetchone()
    assert leftovers == (0, 0, 0)

    storage = storage_of(app)
    assert await storage.store.size_of(ada.attachment) == len(PDF)
    await run_jobs(db, storage)
    assert await storage.store.size_of(ada.attachment) is None
    after = (await gql(client, statistics, {"c": str(ada.room.course_id)}, token=ada.admin_token)).body
    assert after == before
    verified = (await gql(client, VERIFY, {"c": ada.certificate_code}, tenant=ada.person.tenant.slug)).data
    assert verified["verifyCertificate"]["learnerName"] == ERASED_NAME
    assert (await gql(client, "{ me { id } }", token=ada.token)).codes == ["INVALID_TOKEN"]
    signed_in = await gql(client, LOGIN, {"e": ada.person.email, "p": PASSWORD}, tenant=ada.person.tenant.slug)
    assert signed_in.codes == ["UNAUTHENTICATED"]
    reactivate = "mutation($u: ID!) { updateUser(id: $u, input: {isActive: true}) { id } }"
    assert (await gql(client, reactivate, {"u": str(ada.person.id)}, token=ada.admin_token)).codes == ["FORBIDDEN"]
    again = (await gql(client, ERASE, {"u": str(ada.person.id)}, token=ada.admin_token)).data["eraseUser"]
    assert again == erased

    anew = {"email": ada.person.email, "fullName": NAME, "role": "STUDENT", "password": PASSWORD}
    registered = await gql(client, CREATE_USER, {"i": anew}, token=ada.admin_token)
    assert registered.data["createUser"]["email"] == ada.person.email


@pytest.mark.parametrize("role", ["student", "instructor"])
async def test_only_admins_erase(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, role: str
) -> None:
    tenant = await make_tenant()
    victim = await make_user(tenant)
    token = await login(client, await make_user(tenant, role))
    assert (await gql(client, ERASE, {"u": str(victim.id)}, token=token)).codes == ["FORBIDDEN"]
    admin = await login(client, await make_user(tenant, "admin"))
    assert (await gql(client, ERASE, {"u": str(uuid.uuid4())}, token=admin)).codes == ["NOT_FOUND"]


async def test_the_cap_on_waiting_exports_holds_under_parallel_requests(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    tenant = await make_tenant()
    token = await login(client, await make_user(tenant))
    replies = await asyncio.gather(*(gql(client, EXPORT_MINE, token=token) for _ in range(8)))
    codes = sorted(code for reply in replies for code in reply.codes)
    assert sum(1 for reply in replies if not reply.codes) == 3
    assert codes == ["RATE_LIMITED"] * 5
