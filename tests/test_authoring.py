"""Editing a course's content: renaming, moving and removing modules and lessons; archived
lessons keep their learners' progress and count for nothing; positions stay dense."""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import Any

import httpx
import psycopg

from lms_graphql.kit.db import Database
from tests.support.builders import BuiltCourse, build_course
from tests.support.http import gql, login
from tests.support.people import Person, PersonFactory, TenantFactory

TREE = "query($c: ID!) { course(id: $c) { modules { id title position lessons { id title position } } } }"
MOVE_LESSON = "mutation($id: ID!, $p: Int!, $m: ID) { moveLesson(id: $id, position: $p, moduleId: $m) { id position } }"
MOVE_MODULE = "mutation($id: ID!, $p: Int!) { moveModule(id: $id, position: $p) { id position } }"
DELETE_LESSON = "mutation($id: ID!) { deleteLesson(id: $id) { id archived } }"
DELETE_MODULE = "mutation($id: ID!) { deleteModule(id: $id) { id archived } }"
PROGRESS = "mutation($l: ID!, $p: Int!) { updateLessonProgress(lessonId: $l, progress: $p) { progressPct } }"
ENROLL = "mutation($c: ID!) { enrollInCourse(courseId: $c) { id } }"
PERCENT = "{ myEnrollments { course { id } progressPercent status } }"


async def tree(client: httpx.AsyncClient, token: str, course: BuiltCourse) -> list[dict[str, Any]]:
    reply = await gql(client, TREE, {"c": str(course.id)}, token=token)
    modules: list[dict[str, Any]] = reply.data["course"]["modules"]
    return modules


def positions(modules: list[dict[str, Any]]) -> list[Any]:
    return [(m["position"], [lesson["position"] for lesson in m["lessons"]]) for m in modules]


async def teaching(
    client: httpx.AsyncClient, db: Database, make_tenant: TenantFactory, make_user: PersonFactory
) -> tuple[Person, str, BuiltCourse]:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    course = await build_course(db, tenant, teacher.id, modules=3, lessons=3)
    return teacher, await login(client, teacher), course


async def test_renaming_and_moving_keep_positions_dense(
    client: httpx.AsyncClient, db: Database, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    teacher, token, course = await teaching(client, db, make_tenant, make_user)
    first_module, first_lesson = course.module_ids[0], course.lesson_ids[0]
    renamed = await gql(
        client, 'mutation($id: ID!) { updateModule(id: $id, title: " Basics ") { title } }', {"id": str(first_module)},
        token=token,
    )  # fmt: skip
    assert renamed.data == {"updateModule": {"title": "Basics"}}
    changed = await gql(
        client,
        'mutation($id: ID!) { updateLesson(id: $id, input: {title: "Intro", contentType: TEXT, durationMin: null})'
        " { title contentType durationMin } }",
        {"id": str(first_lesson)},
        token=token,
    )
    assert changed.data == {"updateLesson": {"title": "Intro", "contentType": "TEXT", "durationMin": None}}
    refused = await gql(
        client, "mutation($id: ID!) { updateLesson(id: $id, input: {title: null}) { title } }",
        {"id": str(first_lesson)}, token=token,
    )  # fmt: skip
    assert refused.codes == ["BAD_USER_INPUT"]

    moved = await gql(client, MOVE_MODULE, {"id": str(first_module), "p": 99}, token=token)
    assert moved.data["moveModule"]["position"] == 2
    modules = await tree(client, token, course)
    assert [m["id"] for m in modules] == [str(course.module_ids[1]), str(course.module_ids[2]), str(first_module)]
    # A lesson into another module of the course, at its top.
    await gql(client, MOVE_LESSON, {"id": str(first_lesson), "p": 0, "m": str(course.module_ids[1])}, token=token)
    modules = await tree(client, token, course)
    assert modules[0]["lessons"][0]["id"] == str(first_lesson)
    assert positions(modules) == [(0, [0, 1, 2, 3]), (1, [0, 1, 2]), (2, [0, 1])]
    negative = await gql(client, MOVE_MODULE, {"id": str(first_module), "p": -1}, token=token)
    assert negative.codes == ["BAD_USER_INPUT"]

    elsewhere = await build_course(db, teacher.tenant, teacher.id, modules=1, lessons=1)
    across = await gql(
        client, MOVE_LESSON, {"id": str(first_lesson), "p": 0, "m": str(elsewhere.module_ids[0])}, token=token
    )
    assert across.codes == ["NOT_FOUND"]


async def test_only_the_courses_editors_change_its_content(
    client: httpx.AsyncClient, db: Database, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    teacher, _, course = await teaching(client, db, make_tenant, make_user)
    student = await login(client, await make_user(teacher.tenant))
    colleague = await login(client, await make_user(teacher.tenant, "instructor"))
    admin = await login(client, await make_user(teacher.tenant, "admin"))
    stranger = await login(client, await make_user(await make_tenant(), "admin"))
    lesson = {"id": str(course.lesson_ids[0])}
    assert (await gql(client, DELETE_LESSON, lesson, token=student)).codes == ["FORBIDDEN"]
    assert (await gql(client, DELETE_LESSON, lesson, token=colleague)).codes == ["FORBIDDEN"]
    assert (await gql(client, DELETE_LESSON, lesson, token=stranger)).codes == ["NOT_FOUND"]
    assert (await gql(client, DELETE_LESSON, {"id": str(uuid.uuid4())}, token=admin)).codes == ["NOT_FOUND"]
    assert (await gql(client, DELETE_LESSON, lesson, token=admin)).data["deleteLesson"]["archived"] is False
    assert (await gql(client, DELETE_LESSON, lesson, token=admin)).codes == ["NOT_FOUND"]  # gone


async def test_a_lesson_with_progress_is_archived_and_percentages_follow(
    client: httpx.AsyncClient,
    db: Database,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    owner_conn: psycopg.Connection,
) -> None:
    teacher = await make_user(await make_tenant(), "instructor")
    course = await build_course(db, teacher.tenant, teacher.id, modules=2, lessons=1)  # two lessons
    token = await login(client, teacher)
    student = await login(client, await make_user(teacher.tenant))
    await gql(client, ENROLL, {"c": str(course.id)}, token=student)
    done, other = course.lesson_ids
    await gql(client, PROGRESS, {"l": str(done), "p": 100}, token=student)
    assert (await gql(client, PERCENT, token=student)).data["myEnrollments"][0]["progressPercent"] == 50

    removed = await gql(client, DELETE_LESSON, {"id": str(done)}, token=token)
    assert removed.data == {"deleteLesson": {"id": str(done), "archived": True}}
    assert (await gql(client, PERCENT, token=student)).data["myEnrollments"][0]["progressPercent"] == 0
    kept = owner_conn.execute("SELECT progress_pct FROM lesson_progress WHERE lesson_id = %s", (done,)).fetchone()
    assert kept == (100,)  # history
    modules = await tree(client, token, course)
    assert [[lesson["id"] for lesson in m["lessons"]] for m in modules] == [[], [str(other)]]
    refused = await gql(client, PROGRESS, {"l": str(done), "p": 100}, token=student)
    assert refused.codes == ["NOT_FOUND"]
    dashboard = await gql(client, "{ myDashboard { enrolledCourses { nextLesson { id } } } }", token=student)
    assert dashboard.data["myDashboard"]["enrolledCourses"][0]["nextLesson"] == {"id": str(other)}

    await gql(client, PROGRESS, {"l": str(other), "p": 100}, token=student)
    assert (await gql(client, PERCENT, token=student)).data["myEnrollments"][0]["progressPercent"] == 100
    # The module of the archived lesson goes too, archived for the same reason.
    module = await gql(client, DELETE_MODULE, {"id": str(course.module_ids[0])}, token=token)
    assert module.data["deleteModule"]["archived"] is True
    modules = await tree(client, token, course)
    assert positions(modules) == [(0, [0])]
    # Nothing is added to an archived module.
    into_archived = await gql(
        client,
        'mutation($m: ID!) { createLesson(input: {moduleId: $m, title: "x", contentType: TEXT}) { id } }',
        {"m": str(course.module_ids[0])},
        token=token,
    )
    assert into_archived.codes == ["NOT_FOUND"]
    # A completed enrollment stays completed.
    assert (await gql(client, PERCENT, token=student)).data["myEnrollments"][0]["status"] == "COMPLETED"


async def test_concurrent_edits_keep_positions_dense_and_unique(
    client: httpx.AsyncClient, db: Database, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    teacher = await make_user(await make_tenant(), "instructor")
    course = await build_course(db, teacher.tenant, teacher.id, modules=3, lessons=4)
    token = await login(client, teacher)
    chance = random.Random(7)
    edits = []
    for n in range(24):
        lesson = chance.choice(course.lesson_ids)
        if n % 6 == 5:
            edits.append(
                gql(client, MOVE_MODULE, {"id": str(chance.choice(course.module_ids)), "p": n % 3}, token=token)
            )
        else:
            target = chance.choice(course.module_ids)
            edits.append(
                gql(client, MOVE_LESSON, {"id": str(lesson), "p": chance.randrange(5), "m": str(target)}, token=token)
            )
    edits.append(gql(client, DELETE_LESSON, {"id": str(course.lesson_ids[-1])}, token=token))
    replies = await asyncio.gather(*edits)
    assert all(reply.status == 200 for reply in replies), [r.body for r in replies if r.status != 200]
    modules = await tree(client, token, course)
    assert sorted(m["position"] for m in modules) == list(range(len(modules)))
    for module in modules:
        assert [lesson["position"] for lesson in module["lessons"]] == list(range(len(module["lessons"])))
    assert sum(len(m["lessons"]) for m in modules) == len(course.lesson_ids) - 1
