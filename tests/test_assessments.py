"""Assessments over the API: authoring, attempts under races, time limits, grading,
certificates issued once, verification, notifications."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import psycopg

from lms_graphql.kit.db import Database
from tests.support.builders import build_course
from tests.support.http import gql, login
from tests.support.people import PersonFactory, TenantFactory
from tests.support.quizzes import ALL_RIGHT, CREATE, GRADE, QUESTIONS, SUBMIT, classroom, learner

START = "mutation($a: ID!) { startAssessment(assessmentId: $a) { id attemptNumber deadline } }"
PROGRESS = "mutation($l: ID!, $p: Int!) { updateLessonProgress(lessonId: $l, progress: $p) { progressPct } }"


async def test_authoring_rules(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    room = await classroom(client, make_tenant, make_user, db)
    spec = {"courseId": str(room.course_id), "title": "Quiz", "assessmentType": "EXAM", "questions": QUESTIONS}
    created = (await gql(client, CREATE, {"input": spec}, token=room.teacher_token)).data["createAssessment"]
    assert (created["maxScore"], created["passingScore"], created["maxAttempts"]) == (100.0, 60.0, 1)
    assert created["questions"][0]["answer"] == "a"  # the author sees the keys
    bad_question = {**spec, "questions": [{"id": "x1", "type": "true_false", "prompt": "?", "points": 1}]}
    reply = await gql(client, CREATE, {"input": bad_question}, token=room.teacher_token)
    assert reply.codes == ["BAD_USER_INPUT"]
    assert "question 'x1'" in reply.body["errors"][0]["message"]
    for bad in ({"passingScore": 120}, {"maxScore": 0}, {"maxAttempts": 0}, {"timeLimitMin": 0}, {"title": ""}):
        assert (await gql(client, CREATE, {"input": {**spec, **bad}}, token=room.teacher_token)).codes == [
            "BAD_USER_INPUT"
        ], bad
    unlimited = (await gql(client, CREATE, {"input": {**spec, "maxAttempts": None}}, token=room.teacher_token)).data
    assert unlimited["createAssessment"]["maxAttempts"] is None
    other = await login(client, await make_user(room.teacher.tenant, "instructor"))
    assert (await gql(client, CREATE, {"input": spec}, token=other)).codes == ["FORBIDDEN"]
    _, student = await learner(client, make_user, room)
    assert (await gql(client, CREATE, {"input": spec}, token=student)).codes == ["FORBIDDEN"]


async def test_keys_hidden_for_every_role_without_edit_rights(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    room = await classroom(client, make_tenant, make_user, db)
    await room.assessment(client)
    query = "query($c: ID!) { course(id: $c) { assessments { questions } } }"
    tenant = room.teacher.tenant
    viewers = {
        "student": await login(client, await make_user(tenant, "student")),
        "other instructor": await login(client, await make_user(tenant, "instructor")),
        "admin": await login(client, await make_user(tenant, "admin")),
        "own instructor": room.teacher_token,
    }
    for role, token in viewers.items():
        questions = (await gql(client, query, {"c": str(room.course_id)}, token=token)).data["course"]["assessments"][
            0
        ]["questions"]
        keys = {key for q in questions for key in q} & {"answer", "answers", "accepted", "explanation", "caseSensitive"}
        assert bool(keys) == (role in ("admin", "own instructor")), role


async def test_auto_grading_events_and_notifications(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    db: Database,
    owner_conn: psycopg.Connection,
) -> None:
    room = await classroom(client, make_tenant, make_user, db)
    quiz = await room.assessment(client, maxScore=10, passingScore=9, maxAttempts=3)
    person, token = await learner(client, make_user, room)
    first = (await gql(client, SUBMIT, {"a": quiz, "answers": {**ALL_RIGHT, "rls": False}}, token=token)).data[
        "submitAssessment"
    ]
    assert (first["attemptNumber"], first["status"], first["score"], first["passed"]) == (1, "GRADED", 8.0, False)
    second = (await gql(client, SUBMIT, {"a": quiz, "answers": ALL_RIGHT}, token=token)).data["submitAssessment"]
    assert (second["attemptNumber"], second["score"], second["passed"]) == (2, 10.0, True)
    kinds = owner_conn.execute(
        "SELECT event_type, payload FROM domain_events WHERE user_id = %s AND event_type LIKE 'assessment.%%' ORDER BY occurred_at",
        (person.id,),
    ).fetchall()
    assert [kind for kind, _ in kinds] == ["assessment.submitted", "assessment.graded"] * 2
    assert kinds[3][1] == {
        "submissionId": second["id"],
        "assessmentId": quiz,
        "score": 10.0,
        "maxScore": 10.0,
        "passed": True,
    }
    assert kinds[0][1] == {
        "assessmentId": quiz,
        "submissionId": first["id"],
        "courseId": str(room.course_id),
        "attemptNumber": 1,
    }
    notes = (await gql(client, "{ notifications { eventType title } }", token=token)).data["notifications"]
    assert [n["eventType"] for n in notes].count("assessment.graded") == 2
    mine = (
        await gql(
            client,
            "query($c: ID!) { course(id: $c) { assessments { mySubmissions { attemptNumber } } } }",
            {"c": str(room.course_id)},
            token=token,
        )
    ).data
    assert [s["attemptNumber"] for s in mine["course"]["assessments"][0]["mySubmissions"]] == [2, 1]
    bad = await gql(client, SUBMIT, {"a": quiz, "answers": {"capital": "zzz"}}, token=token)
    assert bad.codes == ["BAD_USER_INPUT"]


async def test_parallel_submissions_take_exactly_the_allowed_attempts(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    db: Database,
    owner_conn: psycopg.Connection,
) -> None:
    room = await classroom(client, make_tenant, make_user, db)
    quiz = await room.assessment(client, maxAttempts=3)
    person, token = await learner(client, make_user, room)
    replies = await asyncio.gather(
        *[gql(client, SUBMIT, {"a": quiz, "answers": ALL_RIGHT}, token=token) for _ in range(12)]
    )
    accepted = [r.data["submitAssessment"]["attemptNumber"] for r in replies if "errors" not in r.body]
    refused = [r.codes for r in replies if "errors" in r.body]
    assert sorted(accepted) == [1, 2, 3]
    assert refused == [["ATTEMPTS_EXHAUSTED"]] * 9
    rows = owner_conn.execute(
        "SELECT attempt_number FROM submissions WHERE user_id = %s ORDER BY attempt_number", (person.id,)
    ).fetchall()
    assert rows == [(1,), (2,), (3,)]


async def test_time_limits_and_due_dates(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    db: Database,
    owner_conn: psycopg.Connection,
) -> None:
    room = await classroom(client, make_tenant, make_user, db)
    timed = await room.assessment(client, timeLimitMin=10, maxAttempts=2)
    _, token = await learner(client, make_user, room)
    assert (await gql(client, SUBMIT, {"a": timed, "answers": ALL_RIGHT}, token=token)).codes == ["BAD_USER_INPUT"]
    started = (await gql(client, START, {"a": timed}, token=token)).data["startAssessment"]
    assert started["attemptNumber"] == 1
    assert (await gql(client, START, {"a": timed}, token=token)).data["startAssessment"]["id"] == started["id"]
    done = (await gql(client, SUBMIT, {"a": timed, "answers": ALL_RIGHT}, token=token)).data["submitAssessment"]
    assert (done["id"], done["attemptNumber"], done["score"]) == (started["id"], 1, 100.0)
    second = (await gql(client, START, {"a": timed}, token=token)).data["startAssessment"]
    owner_conn.execute(
        "UPDATE submissions SET started_at = now() - interval '11 minutes' WHERE id = %s", (second["id"],)
    )
    late = await gql(client, SUBMIT, {"a": timed, "answers": ALL_RIGHT}, token=token)
    assert late.codes == ["BAD_USER_INPUT"]
    assert "time limit" in late.body["errors"][0]["message"]
    assert (await gql(client, START, {"a": timed}, token=token)).codes == ["ATTEMPTS_EXHAUSTED"]
    expired = owner_conn.execute(
        "SELECT status, score, answers FROM submissions WHERE id = %s", (second["id"],)
    ).fetchone()
    assert expired == ("graded", 0, {})  # the clock ran out: submitted blank

    past_due = datetime.now(UTC) - timedelta(days=1)
    lenient = await room.assessment(client, dueAt=past_due.isoformat())
    reply = await gql(client, SUBMIT, {"a": lenient, "answers": ALL_RIGHT}, token=token)
    assert reply.data["submitAssessment"]["late"] is True
    strict = await room.assessment(client, dueAt=past_due.isoformat(), acceptsLate=False)
    assert (await gql(client, SUBMIT, {"a": strict, "answers": ALL_RIGHT}, token=token)).codes == ["BAD_USER_INPUT"]


async def test_manual_grading_permissions_bounds_and_regrades(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    db: Database,
    owner_conn: psycopg.Connection,
) -> None:
    room = await classroom(client, make_tenant, make_user, db)
    essay = [{"id": "e", "type": "essay", "prompt": "Discuss.", "points": 10}]
    assignment = await room.assessment(
        client, assessmentType="ASSIGNMENT", questions=essay, maxScore=20, passingScore=10
    )
    person, token = await learner(client, make_user, room)
    submitted = (await gql(client, SUBMIT, {"a": assignment, "answers": {"e": "My essay"}}, token=token)).data[
        "submitAssessment"
    ]
    assert (submitted["status"], submitted["score"]) == ("SUBMITTED", None)
    to_grade = (await gql(client, "{ notifications { eventType title } }", token=room.teacher_token)).data[
        "notifications"
    ]
    assert "To grade: Quiz" in [n["title"] for n in to_grade]

    variables = {"s": submitted["id"], "score": 15, "f": "Good"}
    assert (await gql(client, GRADE, variables, token=token)).codes == ["FORBIDDEN"]
    other = await login(client, await make_user(room.teacher.tenant, "instructor"))
    assert (await gql(client, GRADE, variables, token=other)).codes == ["NOT_FOUND"]
    for score in (-1, 20.5, 1e9):
        assert (await gql(client, GRADE, {**variables, "score": score}, token=room.teacher_token)).codes == [
            "BAD_USER_INPUT"
        ]
    graded = (await gql(client, GRADE, variables, token=room.teacher_token)).data["gradeSubmission"]
    assert graded == {"status": "GRADED", "score": 15.0, "passed": True, "feedback": "Good"}
    admin = await login(client, await make_user(room.teacher.tenant, "admin"))
    regraded = (await gql(client, GRADE, {"s": submitted["id"], "score": 5}, token=admin)).data["gradeSubmission"]
    assert (regraded["score"], regraded["passed"], regraded["feedback"]) == (5.0, False, None)
    history = owner_conn.execute(
        "SELECT score FROM submission_grades WHERE submission_id = %s ORDER BY graded_at", (submitted["id"],)
    ).fetchall()
    assert history == [(15,), (5,)]
    graded_events = owner_conn.execute(
        "SELECT count(*) FROM domain_events WHERE event_type = 'assessment.graded' AND user_id = %s", (person.id,)
    ).fetchone()
    assert graded_events == (2,)


async def test_certificate_once_under_parallel_completion(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    db: Database,
    owner_conn: psycopg.Connection,
) -> None:
    room = await classroom(client, make_tenant, make_user, db, lessons=1)
    quiz = await room.assessment(client, maxAttempts=None)
    for _ in range(4):
        person, token = await learner(client, make_user, room)
        # The last lesson and passing submissions race; whichever completes the course issues.
        await asyncio.gather(
            gql(client, PROGRESS, {"l": str(room.lesson_ids[0]), "p": 100}, token=token),
            gql(client, SUBMIT, {"a": quiz, "answers": ALL_RIGHT}, token=token),
            gql(client, SUBMIT, {"a": quiz, "answers": ALL_RIGHT}, token=token),
        )
        certificates = owner_conn.execute(
            "SELECT count(*) FROM certificates WHERE user_id = %s", (person.id,)
        ).fetchone()
        issued = owner_conn.execute(
            "SELECT count(*) FROM domain_events WHERE event_type = 'certificate.issued' AND user_id = %s", (person.id,)
        ).fetchone()
        assert (certificates, issued) == ((1,), (1,))
    dashboard = (
        await gql(
            client,
            "{ myDashboard { certificatesEarned certificates { verificationCode course { id } } } }",
            token=token,
        )
    ).data
    assert dashboard["myDashboard"]["certificatesEarned"] == 1
    code = dashboard["myDashboard"]["certificates"][0]["verificationCode"]
    assert len(code) >= 27

    verify = "query($c: String!) { verifyCertificate(code: $c) { courseTitle learnerName tenantName issuedAt } }"
    found = (await gql(client, verify, {"c": code}, tenant=room.teacher.tenant.slug)).data["verifyCertificate"]
    assert (found["courseTitle"], found["learnerName"], found["tenantName"]) == ("Course", "A student", "Test tenant")
    elsewhere = await make_tenant()
    assert (await gql(client, verify, {"c": code}, tenant=elsewhere.slug)).data == {"verifyCertificate": None}
    assert (await gql(client, verify, {"c": "guess"}, tenant=room.teacher.tenant.slug)).data == {
        "verifyCertificate": None
    }


async def test_no_certificate_until_every_assessment_is_passed(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    db: Database,
    owner_conn: psycopg.Connection,
) -> None:
    room = await classroom(client, make_tenant, make_user, db, lessons=1)
    quiz = await room.assessment(client, maxAttempts=None)
    essay = await room.assessment(
        client, assessmentType="ASSIGNMENT", questions=[{"id": "e", "type": "essay", "prompt": "?", "points": 1}]
    )
    person, token = await learner(client, make_user, room)
    await gql(client, PROGRESS, {"l": str(room.lesson_ids[0]), "p": 100}, token=token)
    await gql(client, SUBMIT, {"a": quiz, "answers": {}}, token=token)  # failed
    await gql(client, SUBMIT, {"a": quiz, "answers": ALL_RIGHT}, token=token)  # passed: best attempt counts
    submitted = (await gql(client, SUBMIT, {"a": essay, "answers": {"e": "text"}}, token=token)).data[
        "submitAssessment"
    ]
    count = "SELECT count(*) FROM certificates WHERE user_id = %s"
    assert owner_conn.execute(count, (person.id,)).fetchone() == (0,)
    await gql(client, GRADE, {"s": submitted["id"], "score": 100}, token=room.teacher_token)
    assert owner_conn.execute(count, (person.id,)).fetchone() == (1,)
    notes = (await gql(client, "{ notifications { eventType } }", token=token)).data["notifications"]
    assert "certificate.issued" in [n["eventType"] for n in notes]


async def test_publishing_notifies_the_tenants_students(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    students = [await login(client, await make_user(tenant)) for _ in range(3)]
    course = await build_course(db, tenant, teacher.id, status="draft", title="Fresh")
    await gql(
        client,
        "mutation($c: ID!) { publishCourse(id: $c) { id } }",
        {"c": str(course.id)},
        token=await login(client, teacher),
    )
    for token in students:
        notes = (await gql(client, "{ notifications(unreadOnly: true) { eventType title } }", token=token)).data[
            "notifications"
        ]
        assert notes == [{"eventType": "course.published", "title": "New course: Fresh"}]
