"""What property-based fuzzing found, pinned down through HTTP: answer ids of the wrong
shape, scores far out of range, and logs of unexpected errors that carried values."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from lms_graphql.kit.db import Database
from lms_graphql.kit.redaction import HIDDEN, redact_message
from lms_graphql.kit.repository import insert_or_conflict
from lms_graphql.users import repository as user_repository
from tests.support.http import gql, login
from tests.support.people import PersonFactory, TenantFactory
from tests.support.quizzes import CREATE, GRADE, QUESTIONS, SUBMIT, classroom, learner

NOT_IDS: list[Any] = [["a"], {"a": 1}, [["a"]], [{"id": "a"}], 1, 1.5, True, None]


async def test_an_answer_that_is_no_option_id_is_bad_input(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    room = await classroom(client, make_tenant, make_user, db)
    quiz = await room.assessment(client, maxAttempts=None)
    _, token = await learner(client, make_user, room)
    for question in ("capital", "primes"):
        for value in [*NOT_IDS, [["2"], "5"], ["2", {"x": ["5"]}]]:
            reply = await gql(client, SUBMIT, {"a": quiz, "answers": {question: value}}, token=token)
            assert reply.codes == ["BAD_USER_INPUT"], (question, value, reply.body)
            message = reply.body["errors"][0]["message"]
            assert f"question {question!r}" in message, message
    for value in ([["a"]], {"a": 1}):  # any other question's shape check holds too
        for question in ("rls", "city"):
            reply = await gql(client, SUBMIT, {"a": quiz, "answers": {question: value}}, token=token)
            assert reply.codes == ["BAD_USER_INPUT"], (question, value)
    right = await gql(client, SUBMIT, {"a": quiz, "answers": {"capital": "a", "primes": ["2", "5"]}}, token=token)
    assert right.data["submitAssessment"]["status"] == "GRADED"


async def test_a_key_that_is_no_option_id_is_bad_input(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    room = await classroom(client, make_tenant, make_user, db)
    single, multiple = QUESTIONS[0], QUESTIONS[1]
    broken: list[dict[str, Any]] = [{**single, "answer": value} for value in NOT_IDS]
    broken += [{**multiple, "answers": value} for value in [*NOT_IDS, [["2"]], ["2", {"5": 1}], ["2", ["5"]]]]
    for question in broken:
        spec = {"courseId": str(room.course_id), "title": "Quiz", "assessmentType": "QUIZ", "questions": [question]}
        reply = await gql(client, CREATE, {"input": spec}, token=room.teacher_token)
        assert reply.codes == ["BAD_USER_INPUT"], (question, reply.body)
        assert f"question {question['id']!r}" in reply.body["errors"][0]["message"]


FAR_OUT = [1e25, 1e26, 1.7976931348623157e308, -1e26, -1e300, 10000.0, -1.5]


async def test_scores_far_out_of_range_are_bad_input(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    room = await classroom(client, make_tenant, make_user, db)
    for field in ("maxScore", "passingScore"):
        for value in FAR_OUT:
            reply = await gql(client, CREATE, {"input": _essay_spec(room.course_id, **{field: value})},
                              token=room.teacher_token)  # fmt: skip
            assert reply.codes == ["BAD_USER_INPUT"], (field, value, reply.body)
            assert field in reply.body["errors"][0]["message"]
    # JSON cannot carry infinity, a document's literal can: 1e400 parses as inf.
    literal = (
        'mutation { createAssessment(input: {courseId: "%s", title: "T", assessmentType: ASSIGNMENT, maxScore: %s})'
        " { id } }"
    )
    for text in ("1e400", "-1e400", "1e26"):
        reply = await gql(client, literal % (room.course_id, text), token=room.teacher_token)
        assert reply.codes == ["BAD_USER_INPUT"], (text, reply.body)
    edge = await gql(client, CREATE, {"input": _essay_spec(room.course_id, maxScore=9999.99, passingScore=9999.99)},
                     token=room.teacher_token)  # fmt: skip
    assessment = edge.data["createAssessment"]["id"]
    _, token = await learner(client, make_user, room)
    submitted = await gql(client, SUBMIT, {"a": assessment, "answers": {"e": "text"}}, token=token)
    variables = {"s": submitted.data["submitAssessment"]["id"]}
    for value in FAR_OUT:
        reply = await gql(client, GRADE, {**variables, "score": value}, token=room.teacher_token)
        assert reply.codes == ["BAD_USER_INPUT"], (value, reply.body)
    graded = await gql(client, GRADE, {**variables, "score": 9999.99}, token=room.teacher_token)
    assert graded.data["gradeSubmission"]["score"] == 9999.99


def _essay_spec(course_id: Any, **fields: Any) -> dict[str, Any]:
    essay = [{"id": "e", "type": "essay", "prompt": "Discuss.", "points": 10}]
    return {"courseId": str(course_id), "title": "A", "assessmentType": "ASSIGNMENT", "questions": essay, **fields}


# --- logs --------------------------------------------------------------------------------

UNMAPPED = "lms_graphql.users.repository.insert_or_conflict"
CREATE_USER = """
mutation($email: String!) { createUser(input: {email: $email, fullName: "Dup Licate", role: STUDENT,
  password: "a secret pass phrase"}) { id } }
"""


def _unexpected(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("lms_graphql") and r.levelno >= logging.ERROR]


async def test_logs_of_unexpected_errors_carry_no_values(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tenant = await make_tenant()
    admin = await make_user(tenant, "admin")
    token = await login(client, admin)
    taken = await make_user(tenant, "student", email="taken.address@uni.example")
    # An insert whose unique violation nobody maps to CONFLICT: unexpected, with the email and
    # the new password hash among the statement's parameters.
    monkeypatch.setattr(UNMAPPED, lambda s, row, _: insert_or_conflict(s, row, {}))
    with caplog.at_level(logging.ERROR):
        reply = await gql(client, CREATE_USER, {"email": taken.email}, token=token)
    assert reply.codes == ["INTERNAL"]
    logged = caplog.text
    # It was logged. (PostgreSQL itself leaves the key out of DETAIL on a table with RLS.)
    assert "UniqueViolation" in logged
    assert "hide_parameters=True" in logged
    for secret in ("taken.address", "$argon2", "a secret pass phrase", "[parameters:", "Key ("):
        assert secret not in logged, secret

    # A statement failing on its parameter: PostgreSQL quotes the value in its message and CONTEXT.
    async def failing_lookup(self: Any, email: str) -> None:
        from sqlalchemy import text

        await self.session.execute(text("SELECT CAST(:email AS uuid)"), {"email": email})

    monkeypatch.setattr(user_repository.UserRepository, "find_by_email", failing_lookup)
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        reply = await gql(client, "mutation($e: String!) { login(email: $e, password: \"pw pw pw pw\") { token } }",
                          {"e": "who.is.this@uni.example"}, tenant=tenant.slug)  # fmt: skip
    assert reply.codes == ["INTERNAL"]
    assert "InvalidTextRepresentation" in caplog.text
    for secret in ("who.is.this", "pw pw pw pw", "[parameters:"):
        assert secret not in caplog.text, secret


async def test_an_unexpected_error_is_logged_once(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tenant = await make_tenant()
    token = await login(client, await make_user(tenant, "admin"))
    taken = await make_user(tenant, "student")
    monkeypatch.setattr(UNMAPPED, lambda s, row, _: insert_or_conflict(s, row, {}))
    with caplog.at_level(logging.ERROR):
        reply = await gql(client, CREATE_USER, {"email": taken.email}, token=token)
    assert reply.codes == ["INTERNAL"]
    assert len(_unexpected(caplog)) == 1, [r.getMessage() for r in _unexpected(caplog)]


@pytest.mark.parametrize(
    ("message", "sqlstate", "redacted"),
    [
        ('duplicate key value violates unique constraint "uq"\nDETAIL:  Key (email)=(a@b.c) already exists.',
         "23505", f'duplicate key value violates unique constraint "uq"\n{HIDDEN}'),
        ('null value in column "h" violates not-null constraint\nDETAIL:  Failing row contains (x, $argon2id$).',
         "23502", f'null value in column "h" violates not-null constraint\n{HIDDEN}'),
        ('invalid input syntax for type uuid: "a@b.c"\nCONTEXT:  unnamed portal parameter $1 = \'a@b.c\'',
         "22P02", f"invalid input syntax for type uuid: [value hidden]\n{HIDDEN}"),
        ("PostgreSQL text fields cannot contain NUL (0x00) bytes", None,
         "PostgreSQL text fields cannot contain NUL (0x00) bytes"),
        ('relation "x" does not exist', "42P01", 'relation "x" does not exist'),
    ],
)  # fmt: skip
def test_redact_message(message: str, sqlstate: str | None, redacted: str) -> None:
    assert redact_message(message, sqlstate) == redacted
