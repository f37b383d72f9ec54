"""Learning paths: a course opens to a learner once its prerequisites are completed."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from lms_graphql.kit.db import Database
from tests.support.builders import build_course
from tests.support.http import gql, login
from tests.support.people import PersonFactory, TenantFactory

SET = """mutation($c: ID!, $r: [ID!]!) { setCoursePrerequisites(courseId: $c, requiredCourseIds: $r) {
  id prerequisiteIds } }"""
ENROLL = "mutation($c: ID!) { enrollInCourse(courseId: $c) { id } }"
LOCK = "query($c: ID!) { course(id: $c) { locked lockReason prerequisiteIds } }"
PROGRESS = "mutation($l: ID!, $p: Int!) { updateLessonProgress(lessonId: $l, progress: $p) { progressPct } }"


async def test_a_course_opens_once_its_prerequisites_are_completed(
    client: httpx.AsyncClient, db: Database, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    basics = await build_course(db, tenant, teacher.id, title="Basics", modules=1, lessons=1, assessments=0)
    advanced = await build_course(db, tenant, teacher.id, title="Advanced", modules=1, lessons=1)
    token = await login(client, teacher)
    done = await gql(client, SET, {"c": str(advanced.id), "r": [str(basics.id)]}, token=token)
    assert done.data["setCoursePrerequisites"]["prerequisiteIds"] == [str(basics.id)]

    student = await login(client, await make_user(tenant))
    shown = (await gql(client, LOCK, {"c": str(advanced.id)}, token=student)).data["course"]
    assert shown == {"locked": True, "lockReason": "complete Basics first", "prerequisiteIds": [str(basics.id)]}
    refused = await gql(client, ENROLL, {"c": str(advanced.id)}, token=student)
    assert refused.codes == ["LOCKED"]
    assert "complete Basics first" in refused.body["errors"][0]["message"]

    await gql(client, ENROLL, {"c": str(basics.id)}, token=student)
    await gql(client, PROGRESS, {"l": str(basics.lesson_ids[0]), "p": 100}, token=student)  # completes Basics
    opened = (await gql(client, LOCK, {"c": str(advanced.id)}, token=student)).data["course"]
    assert (opened["locked"], opened["lockReason"]) == (False, None)
    assert "errors" not in (await gql(client, ENROLL, {"c": str(advanced.id)}, token=student)).body


async def test_prerequisites_hold_together(
    client: httpx.AsyncClient, db: Database, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    first, second, third = [await build_course(db, tenant, teacher.id, title=f"C{n}") for n in range(3)]
    draft = await build_course(db, tenant, teacher.id, title="Draft", status="draft")
    token = await login(client, teacher)
    await gql(client, SET, {"c": str(second.id), "r": [str(first.id)]}, token=token)
    await gql(client, SET, {"c": str(third.id), "r": [str(second.id)]}, token=token)
    cycle = await gql(client, SET, {"c": str(first.id), "r": [str(third.id)]}, token=token)
    assert cycle.codes == ["BAD_USER_INPUT"]
    for bad in ([str(first.id)], [str(draft.id)]):
        reply = await gql(client, SET, {"c": str(first.id), "r": bad}, token=token)
        assert reply.codes == ["BAD_USER_INPUT"], bad
    unknown = await gql(client, SET, {"c": str(first.id), "r": [str(uuid.uuid4())]}, token=token)
    assert unknown.codes == ["NOT_FOUND"]
    stranger = await make_user(await make_tenant(), "instructor")
    elsewhere = await build_course(db, stranger.tenant, stranger.id)
    foreign = await gql(client, SET, {"c": str(first.id), "r": [str(elsewhere.id)]}, token=token)
    assert foreign.codes == ["NOT_FOUND"]
    cleared = await gql(client, SET, {"c": str(third.id), "r": []}, token=token)
    assert cleared.data["setCoursePrerequisites"]["prerequisiteIds"] == []
    student = await login(client, await make_user(tenant))
    assert (await gql(client, SET, {"c": str(third.id), "r": []}, token=student)).codes == ["FORBIDDEN"]


MODULE_RULES = """mutation($id: ID!, $at: DateTime, $p: Boolean) {
  updateModule(id: $id, unlockAt: $at, requiresPrevious: $p) { unlockAt requiresPrevious } }"""
LESSON_RULE = """mutation($id: ID!) { updateLesson(id: $id, input: {requiresPrevious: true}) { requiresPrevious } }"""
TREE = """query($c: ID!) { course(id: $c) { modules { locked lockReason lessons {
  id locked lockReason contentRef } } } }"""
NEXT = "{ myDashboard { enrolledCourses { nextLesson { id } } } }"


async def test_modules_and_lessons_open_in_order_and_on_their_date(
    client: httpx.AsyncClient, db: Database, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    course = await build_course(db, tenant, teacher.id, modules=3, lessons=2)  # lessons 0-1, 2-3, 4-5
    token = await login(client, teacher)
    lessons, modules = [str(i) for i in course.lesson_ids], [str(i) for i in course.module_ids]
    await gql(client, LESSON_RULE, {"id": lessons[1]}, token=token)
    rules = await gql(client, MODULE_RULES, {"id": modules[1], "p": True}, token=token)
    assert rules.data["updateModule"] == {"unlockAt": None, "requiresPrevious": True}
    await gql(client, MODULE_RULES, {"id": modules[2], "at": "2999-01-01T00:00:00+00:00"}, token=token)

    student = await login(client, await make_user(tenant))
    await gql(client, ENROLL, {"c": str(course.id)}, token=student)

    async def states() -> list[tuple[bool, list[bool]]]:
        tree = (await gql(client, TREE, {"c": str(course.id)}, token=student)).data["course"]["modules"]
        return [(m["locked"], [lesson["locked"] for lesson in m["lessons"]]) for m in tree]

    assert await states() == [(False, [False, True]), (True, [True, True]), (True, [True, True])]
    tree = (await gql(client, TREE, {"c": str(course.id)}, token=student)).data["course"]["modules"]
    assert tree[0]["lessons"][1] == {
        "id": lessons[1], "locked": True, "lockReason": "complete the previous lesson first", "contentRef": None,
    }  # fmt: skip
    assert tree[2]["lockReason"] == "opens on 2999-01-01 00:00 UTC"
    refused = await gql(client, PROGRESS, {"l": lessons[1], "p": 50}, token=student)
    assert refused.codes == ["LOCKED"]
    assert (await gql(client, NEXT, token=student)).data["myDashboard"]["enrolledCourses"][0]["nextLesson"] == {
        "id": lessons[0]
    }

    await gql(client, PROGRESS, {"l": lessons[0], "p": 100}, token=student)
    assert await states() == [(False, [False, False]), (True, [True, True]), (True, [True, True])]
    await gql(client, PROGRESS, {"l": lessons[1], "p": 100}, token=student)
    assert await states() == [(False, [False, False]), (False, [False, False]), (True, [True, True])]
    assert (await gql(client, NEXT, token=student)).data["myDashboard"]["enrolledCourses"][0]["nextLesson"] == {
        "id": lessons[2]
    }
    # The course's editors see the content of what is locked for learners.
    edited = (await gql(client, TREE, {"c": str(course.id)}, token=token)).data["course"]["modules"]
    assert edited[2]["lessons"][0]["contentRef"] is not None


async def test_two_changes_at_once_cannot_close_a_cycle(
    client: httpx.AsyncClient, db: Database, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    token = await login(client, teacher)
    for _ in range(5):
        first, second = [await build_course(db, tenant, teacher.id, modules=1, lessons=1) for _ in range(2)]
        replies = await asyncio.gather(
            gql(client, SET, {"c": str(first.id), "r": [str(second.id)]}, token=token),
            gql(client, SET, {"c": str(second.id), "r": [str(first.id)]}, token=token),
        )
        assert sorted(tuple(reply.codes) for reply in replies) == [(), ("BAD_USER_INPUT",)]
