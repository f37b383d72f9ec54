"""REST /api/v1 content: modules, lessons, assessments and submissions, read and written by the
rules GraphQL applies (content only for learners and editors, locks, answer keys only for
editors), field by field equal to what GraphQL answers."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from lms_graphql.kit.db import Database
from tests.support.builders import build_course
from tests.support.http import gql, login
from tests.support.people import PersonFactory, TenantFactory
from tests.support.quizzes import ALL_RIGHT, QUESTIONS, classroom, learner


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


TREE = """query($c: ID!) { course(id: $c) { modules { id title position unlockAt requiresPrevious locked lockReason
  lessons { id title contentType durationMin position contentRef requiresPrevious locked lockReason
    myProgress { status progressPct startedAt completedAt } contentUrl
    media { status durationSeconds width height renditions { name width height bandwidth } error attempts updatedAt
      playlistUrl thumbnailUrl } } } } }"""


async def rest_tree(client: httpx.AsyncClient, course_id: uuid.UUID, token: str) -> list[dict[str, Any]]:
    """The course's modules with their lessons as GraphQL nests them, read through REST."""
    modules = await client.get(f"/api/v1/courses/{course_id}/modules", headers=bearer(token))
    assert modules.status_code == 200, modules.text
    tree = []
    for module in modules.json()["items"]:
        lessons = await client.get(f"/api/v1/modules/{module['id']}/lessons", headers=bearer(token))
        assert lessons.status_code == 200, lessons.text
        assert {lesson["moduleId"] for lesson in lessons.json()["items"]} <= {module["id"]}
        items = []
        for lesson in lessons.json()["items"]:
            for key in ("moduleId", "courseId"):
                lesson.pop(key)
            if lesson["myProgress"] is not None:
                lesson["myProgress"].pop("lessonId")
            items.append(lesson)
        assert module.pop("courseId") == str(course_id)
        tree.append({**module, "lessons": items})
    return tree


async def test_modules_and_lessons_read_as_graphql_reads_them_for_every_kind_of_reader(
    client: httpx.AsyncClient, db: Database, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    course = await build_course(db, tenant, teacher.id, modules=2, lessons=2)
    teacher_token = await login(client, teacher)
    # The second module opens after the first: a learner sees it locked, without content.
    rule = "mutation($m: ID!) { updateModule(id: $m, requiresPrevious: true) { id } }"
    assert (await gql(client, rule, {"m": str(course.module_ids[1])}, token=teacher_token)).data
    learner_token = await login(client, await make_user(tenant))
    await client.post(f"/api/v1/courses/{course.id}/enroll", headers=bearer(learner_token))
    await client.put(
        f"/api/v1/lessons/{course.lesson_ids[0]}/progress", json={"progress": 40}, headers=bearer(learner_token)
    )
    visitor_token = await login(client, await make_user(tenant))

    for token in (teacher_token, learner_token, visitor_token):
        graph = (await gql(client, TREE, {"c": str(course.id)}, token=token)).data["course"]["modules"]
        assert await rest_tree(client, course.id, token) == graph

    seen = await rest_tree(client, course.id, learner_token)
    assert seen[0]["lessons"][0]["contentRef"] is not None
    assert seen[0]["lessons"][0]["myProgress"]["progressPct"] == 40
    assert seen[1]["locked"]
    assert all(lesson["contentRef"] is None for lesson in seen[1]["lessons"])
    visitor = await rest_tree(client, course.id, visitor_token)
    assert all(lesson["contentRef"] is None for module in visitor for lesson in module["lessons"])


async def test_modules_and_lessons_hidden_with_their_course(
    client: httpx.AsyncClient, db: Database, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    tenant, other = await make_tenant(), await make_tenant()
    teacher = await make_user(tenant, "instructor")
    draft = await build_course(db, tenant, teacher.id, status="draft", modules=1, lessons=1)
    elsewhere = await build_course(db, other, (await make_user(other, "instructor")).id, modules=1, lessons=1)
    token = await login(client, await make_user(tenant))
    for path in (
        f"/api/v1/courses/{draft.id}/modules",
        f"/api/v1/modules/{draft.module_ids[0]}/lessons",
        f"/api/v1/courses/{draft.id}/assessments",
        f"/api/v1/courses/{elsewhere.id}/modules",
        f"/api/v1/modules/{elsewhere.module_ids[0]}/lessons",
        f"/api/v1/modules/{uuid.uuid4()}/lessons",
    ):
        response = await client.get(path, headers=bearer(token))
        assert (response.status_code, response.json()["code"]) == (404, "NOT_FOUND"), path


async def test_assessments_show_answer_keys_to_editors_only_and_submissions_grade_as_graphql(
    client: httpx.AsyncClient, db: Database, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    room = await classroom(client, make_tenant, make_user, db)
    quiz = await room.assessment(client, maxAttempts=1)
    _, token = await learner(client, make_user, room)
    fields = "id title assessmentType maxScore passingScore timeLimitMin maxAttempts dueAt version questions"
    query = f"query($c: ID!) {{ course(id: $c) {{ assessments {{ {fields} }} }} }}"
    for reader in (token, room.teacher_token):
        rest = (await client.get(f"/api/v1/courses/{room.course_id}/assessments", headers=bearer(reader))).json()
        graph = (await gql(client, query, {"c": str(room.course_id)}, token=reader)).data["course"]["assessments"]
        assert [{k: a[k] for k in graph[0]} for a in rest["items"]] == graph
    learner_view = (await client.get(f"/api/v1/courses/{room.course_id}/assessments", headers=bearer(token))).json()
    assert "answer" not in learner_view["items"][0]["questions"][0]
    editor_view = await client.get(f"/api/v1/courses/{room.course_id}/assessments", headers=bearer(room.teacher_token))
    assert editor_view.json()["items"][0]["questions"] == QUESTIONS

    bad = await client.post(f"/api/v1/assessments/{quiz}/submissions", json={"answers": []}, headers=bearer(token))
    assert (bad.status_code, bad.json()["errors"][0]["path"]) == (422, "body.answers")
    unknown = {"answers": {"nope": "a"}}
    refused = await client.post(f"/api/v1/assessments/{quiz}/submissions", json=unknown, headers=bearer(token))
    assert (refused.status_code, refused.json()["code"]) == (400, "BAD_USER_INPUT")
    submitted = await client.post(
        f"/api/v1/assessments/{quiz}/submissions", json={"answers": ALL_RIGHT}, headers=bearer(token)
    )
    assert submitted.status_code == 201, submitted.text
    body = submitted.json()
    assert (body["status"], body["score"], body["passed"], body["attemptNumber"]) == ("GRADED", 100.0, True, 1)
    graph = (await gql(
        client, "query($s: ID!) { submission(id: $s) { id attemptNumber score passed status late answers } }",
        {"s": body["id"]}, token=token,
    )).data["submission"]  # fmt: skip
    assert {k: body[k] for k in graph} == graph
    over = await client.post(
        f"/api/v1/assessments/{quiz}/submissions", json={"answers": ALL_RIGHT}, headers=bearer(token)
    )
    assert (over.status_code, over.json()["code"]) == (409, "ATTEMPTS_EXHAUSTED")
    stranger = await login(client, await make_user(room.teacher.tenant))
    not_enrolled = await client.post(
        f"/api/v1/assessments/{quiz}/submissions", json={"answers": ALL_RIGHT}, headers=bearer(stranger)
    )
    assert (not_enrolled.status_code, not_enrolled.json()["code"]) == (403, "FORBIDDEN")


async def test_uploads_over_rest_as_over_graphql(
    client: httpx.AsyncClient, db: Database, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    from tests.test_storage import PDF

    room = await classroom(client, make_tenant, make_user, db, lessons=2)
    assignment = await room.assessment(client, assessmentType="ASSIGNMENT", questions=[])
    _, token = await learner(client, make_user, room)
    teacher = bearer(room.teacher_token)
    lesson = room.lesson_ids[0]
    announced = {"contentType": "application/pdf", "sizeBytes": len(PDF)}
    ticket = await client.post(f"/api/v1/lessons/{lesson}/uploads", json=announced, headers=teacher)
    assert ticket.status_code == 201, ticket.text
    sent = ticket.json()
    await client.request(sent["method"], sent["url"], content=PDF, headers=sent["headers"])
    elsewhere = await client.post(
        f"/api/v1/lessons/{room.lesson_ids[-1]}/uploads/{sent['fileId']}/confirm", headers=teacher
    )
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (404, "NOT_FOUND")
    confirmed = await client.post(f"/api/v1/lessons/{lesson}/uploads/{sent['fileId']}/confirm", headers=teacher)
    assert confirmed.status_code == 200, confirmed.text
    assert (await client.get(confirmed.json()["url"])).content == PDF
    modules = (await client.get(f"/api/v1/courses/{room.course_id}/modules", headers=bearer(token))).json()["items"]
    lessons = (await client.get(f"/api/v1/modules/{modules[0]['id']}/lessons", headers=bearer(token))).json()["items"]
    assert (await client.get(lessons[0]["contentUrl"])).content == PDF

    mine = await client.post(f"/api/v1/assessments/{assignment}/uploads", json=announced, headers=bearer(token))
    upload = mine.json()
    await client.request(upload["method"], upload["url"], content=PDF, headers=upload["headers"])
    done = await client.post(
        f"/api/v1/assessments/{assignment}/uploads/{upload['fileId']}/confirm", headers=bearer(token)
    )
    assert done.json()["sizeBytes"] == len(PDF)
    submitted = await client.post(
        f"/api/v1/assessments/{assignment}/submissions",
        json={"answers": {}, "fileIds": [upload["fileId"]]},
        headers=bearer(token),
    )
    assert submitted.status_code == 201, submitted.text
    assert [file["id"] for file in submitted.json()["files"]] == [upload["fileId"]]
    read = (await client.get(f"/api/v1/submissions/{submitted.json()['id']}", headers=teacher)).json()
    assert (await client.get(read["files"][0]["url"])).content == PDF
