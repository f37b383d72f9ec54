"""Changing an assessment after it was created: versions once it has been attempted, explicit
regrading of a version, deleting only what nobody attempted."""

from __future__ import annotations

import copy
import uuid

import httpx
import psycopg

from lms_graphql.kit.db import Database
from tests.support.http import gql, login
from tests.support.people import PersonFactory, TenantFactory
from tests.support.quizzes import ALL_RIGHT, GRADE, QUESTIONS, SUBMIT, classroom, learner

UPDATE = """
mutation($id: ID!, $input: UpdateAssessmentInput!) { updateAssessment(id: $id, input: $input) {
  id title version maxScore passingScore maxAttempts timeLimitMin } }
"""
REGRADE = "mutation($id: ID!, $v: Int!) { regradeAssessment(id: $id, version: $v) { regraded version } }"
DELETE = "mutation($id: ID!) { deleteAssessment(id: $id) }"
MINE = "query($s: ID!) { submission(id: $s) { score assessmentVersion status } }"


def with_key(capital: str) -> list[dict[str, object]]:
    changed = copy.deepcopy(QUESTIONS)
    changed[0]["answer"] = capital
    return changed


async def test_changes_before_any_attempt_keep_the_version(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    room = await classroom(client, make_tenant, make_user, db)
    quiz = await room.assessment(client)
    changed = await gql(
        client,
        UPDATE,
        {"id": quiz, "input": {"title": "Renamed", "questions": with_key("b"), "maxAttempts": None, "timeLimitMin": 5}},
        token=room.teacher_token,
    )
    assert changed.data["updateAssessment"] == {
        "id": quiz, "title": "Renamed", "version": 1, "maxScore": 100.0, "passingScore": 60.0,
        "maxAttempts": None, "timeLimitMin": 5,
    }  # fmt: skip
    for bad in ({"title": None}, {"passingScore": 200}, {"maxScore": 0}, {"questions": [{"id": "x"}]}):
        refused = await gql(client, UPDATE, {"id": quiz, "input": bad}, token=room.teacher_token)
        assert refused.codes == ["BAD_USER_INPUT"], bad
    assert (await gql(client, DELETE, {"id": quiz}, token=room.teacher_token)).data == {"deleteAssessment": True}
    gone = await gql(client, UPDATE, {"id": quiz, "input": {"title": "x"}}, token=room.teacher_token)
    assert gone.codes == ["NOT_FOUND"]


async def test_a_change_after_submissions_makes_a_version_and_regrading_is_explicit(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    db: Database,
    owner_conn: psycopg.Connection,
) -> None:
    room = await classroom(client, make_tenant, make_user, db)
    quiz = await room.assessment(client, maxAttempts=3)
    _, token = await learner(client, make_user, room)
    first = (await gql(client, SUBMIT, {"a": quiz, "answers": ALL_RIGHT}, token=token)).data["submitAssessment"]
    assert first["score"] == 100.0

    # The key of "capital" was wrong: b, not a. Title changes alone make no version.
    await gql(client, UPDATE, {"id": quiz, "input": {"title": "Quiz"}}, token=room.teacher_token)
    changed = await gql(client, UPDATE, {"id": quiz, "input": {"questions": with_key("b")}}, token=room.teacher_token)
    assert changed.data["updateAssessment"]["version"] == 2
    kept = await gql(client, MINE, {"s": first["id"]}, token=token)
    assert kept.data["submission"] == {"score": 100.0, "assessmentVersion": 1, "status": "GRADED"}
    second = (await gql(client, SUBMIT, {"a": quiz, "answers": ALL_RIGHT}, token=token)).data["submitAssessment"]
    assert second["score"] == 80.0  # graded against version 2
    assert (await gql(client, MINE, {"s": second["id"]}, token=token)).data["submission"]["assessmentVersion"] == 2

    regraded = await gql(client, REGRADE, {"id": quiz, "v": 1}, token=room.teacher_token)
    assert regraded.data == {"regradeAssessment": {"regraded": 1, "version": 2}}
    assert (await gql(client, MINE, {"s": first["id"]}, token=token)).data["submission"] == {
        "score": 80.0, "assessmentVersion": 2, "status": "GRADED",
    }  # fmt: skip
    history = owner_conn.execute(
        "SELECT count(*) FROM submission_grades WHERE submission_id = %s", (uuid.UUID(first["id"]),)
    ).fetchone()
    assert history == (1,)
    stored = owner_conn.execute(
        "SELECT version, questions -> 0 ->> 'answer' FROM assessment_versions WHERE assessment_id = %s",
        (uuid.UUID(quiz),),
    ).fetchall()
    assert stored == [(1, "a")]  # version 1 as it was
    assert (await gql(client, REGRADE, {"id": quiz, "v": 3}, token=room.teacher_token)).codes == ["BAD_USER_INPUT"]
    refused = await gql(client, DELETE, {"id": quiz}, token=room.teacher_token)
    assert refused.codes == ["CONFLICT"]


async def test_a_submission_is_graded_on_the_scale_of_the_version_it_answered(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    room = await classroom(client, make_tenant, make_user, db)
    essay = [{"id": "e", "type": "essay", "prompt": "Why RLS?", "points": 10}]
    task = await room.assessment(client, assessmentType="ASSIGNMENT", questions=essay, maxScore=10, passingScore=5)
    _, token = await learner(client, make_user, room)
    submitted = (await gql(client, SUBMIT, {"a": task, "answers": {"e": "because"}}, token=token)).data
    await gql(client, UPDATE, {"id": task, "input": {"maxScore": 20, "passingScore": 10}}, token=room.teacher_token)
    sid = submitted["submitAssessment"]["id"]
    above = await gql(client, GRADE, {"s": sid, "score": 15}, token=room.teacher_token)
    assert above.codes == ["BAD_USER_INPUT"]  # its version's maximum is 10
    graded = await gql(client, GRADE, {"s": sid, "score": 6}, token=room.teacher_token)
    assert graded.data["gradeSubmission"]["passed"] is True  # 5 to pass, in its version
    by_hand = await gql(client, REGRADE, {"id": task, "v": 1}, token=room.teacher_token)
    assert by_hand.codes == ["BAD_USER_INPUT"]


async def test_only_the_courses_editors_change_its_assessments(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    room = await classroom(client, make_tenant, make_user, db)
    quiz = await room.assessment(client)
    _, student = await learner(client, make_user, room)
    stranger = await login(client, await make_user(await make_tenant(), "admin"))
    change = {"id": quiz, "input": {"title": "pwned"}}
    assert (await gql(client, UPDATE, change, token=student)).codes == ["FORBIDDEN"]
    assert (await gql(client, UPDATE, change, token=stranger)).codes == ["NOT_FOUND"]
    assert (await gql(client, DELETE, {"id": quiz}, token=stranger)).codes == ["NOT_FOUND"]
    assert (await gql(client, REGRADE, {"id": quiz, "v": 1}, token=student)).codes == ["FORBIDDEN"]
