"""The larger lists a page at a time: the viewer's enrollments and notifications, a course's
students, an assessment's submissions (for its graders, filtered by status)."""

from __future__ import annotations

from typing import Any

import httpx

from lms_graphql.kit.db import Database
from tests.support.builders import build_course
from tests.support.http import gql, login
from tests.support.people import PersonFactory, TenantFactory
from tests.support.quizzes import SUBMIT, classroom, learner

ENROLL = "mutation($c: ID!) { enrollInCourse(courseId: $c) { id } }"
MINE = """query($after: String) { myEnrollmentsConnection(first: 2, after: $after) {
  edges { cursor node { id course { id } } } pageInfo { hasNextPage endCursor } } }"""
STUDENTS = """query($c: ID!, $after: String) { courseStudentsConnection(courseId: $c, first: 2, after: $after) {
  edges { node { user { id } } } pageInfo { hasNextPage endCursor } } }"""
NOTES = """query($after: String) { notificationsConnection(first: 1, after: $after) {
  edges { node { title } } pageInfo { hasNextPage endCursor } } }"""
SUBMISSIONS = """query($a: ID!, $s: SubmissionStatus, $after: String) {
  assessmentSubmissions(assessmentId: $a, status: $s, first: 1, after: $after) {
    edges { node { id status } } pageInfo { hasNextPage endCursor } } }"""


async def every_page(
    client: httpx.AsyncClient, query: str, field: str, token: str, **variables: Any
) -> list[list[dict[str, Any]]]:
    pages, after = [], None
    while True:
        reply = await gql(client, query, {**variables, "after": after}, token=token)
        page = reply.data[field]
        pages.append([edge["node"] for edge in page["edges"]])
        if not page["pageInfo"]["hasNextPage"]:
            return pages
        after = page["pageInfo"]["endCursor"]


async def test_enrollments_and_students_a_page_at_a_time(
    client: httpx.AsyncClient, db: Database, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    courses = [await build_course(db, tenant, teacher.id, modules=1, lessons=1) for _ in range(5)]
    student = await make_user(tenant)
    token = await login(client, student)
    for course in courses:
        await gql(client, ENROLL, {"c": str(course.id)}, token=token)
    pages = await every_page(client, MINE, "myEnrollmentsConnection", token)
    assert [len(page) for page in pages] == [2, 2, 1]
    seen = [node["course"]["id"] for page in pages for node in page]
    listed = (await gql(client, "{ myEnrollments { course { id } } }", token=token)).data["myEnrollments"]
    assert seen == [e["course"]["id"] for e in listed] == [str(c.id) for c in reversed(courses)]  # newest first

    others = [await make_user(tenant) for _ in range(2)]
    for other in others:
        await gql(client, ENROLL, {"c": str(courses[0].id)}, token=await login(client, other))
    teacher_token = await login(client, teacher)
    pages = await every_page(client, STUDENTS, "courseStudentsConnection", teacher_token, c=str(courses[0].id))
    assert {node["user"]["id"] for page in pages for node in page} == {str(p.id) for p in (student, *others)}
    refused = await gql(client, STUDENTS, {"c": str(courses[0].id)}, token=token)
    assert refused.codes == ["FORBIDDEN"]
    for bad in ({"after": "not a cursor"},):
        assert (await gql(client, MINE, bad, token=token)).codes == ["BAD_USER_INPUT"]
    too_many = await gql(client, "{ myEnrollmentsConnection(first: 101) { edges { cursor } } }", token=token)
    assert too_many.codes == ["BAD_USER_INPUT"]


async def test_notifications_a_page_at_a_time(
    client: httpx.AsyncClient, db: Database, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    teacher_token = await login(client, teacher)
    course = await build_course(db, tenant, teacher.id, modules=1, lessons=1)
    for _ in range(3):  # each enrollment tells the instructor
        await gql(client, ENROLL, {"c": str(course.id)}, token=await login(client, await make_user(tenant)))
    pages = await every_page(client, NOTES, "notificationsConnection", teacher_token)
    assert [len(page) for page in pages] == [1, 1, 1]


async def test_an_assessments_submissions_for_its_graders(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    room = await classroom(client, make_tenant, make_user, db)
    essay = [{"id": "e", "type": "essay", "prompt": "Why?", "points": 1}]
    task = await room.assessment(client, assessmentType="ASSIGNMENT", questions=essay)
    quiz = await room.assessment(client)
    learners = [await learner(client, make_user, room) for _ in range(3)]
    for _, token in learners:
        await gql(client, SUBMIT, {"a": task, "answers": {"e": "because"}}, token=token)
    await gql(client, SUBMIT, {"a": quiz, "answers": {}}, token=learners[0][1])  # graded at once
    pages = await every_page(client, SUBMISSIONS, "assessmentSubmissions", room.teacher_token, a=task, s="SUBMITTED")
    assert [[node["status"] for node in page] for page in pages] == [["SUBMITTED"]] * 3
    graded = await every_page(client, SUBMISSIONS, "assessmentSubmissions", room.teacher_token, a=quiz, s="GRADED")
    assert [len(page) for page in graded] == [1]
    none_yet = await gql(client, SUBMISSIONS, {"a": task, "s": "GRADED"}, token=room.teacher_token)
    assert none_yet.data["assessmentSubmissions"]["edges"] == []
    student = learners[0][1]
    assert (await gql(client, SUBMISSIONS, {"a": task}, token=student)).codes == ["NOT_FOUND"]
    stranger = await login(client, await make_user(await make_tenant(), "admin"))
    assert (await gql(client, SUBMISSIONS, {"a": task}, token=stranger)).codes == ["NOT_FOUND"]
