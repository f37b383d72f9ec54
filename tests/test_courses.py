"""The catalogue: creating and editing courses and content, who sees what, pages, search."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import psycopg

from lms_graphql.kit.db import Database
from tests.support.builders import build_course
from tests.support.http import gql, login
from tests.support.people import PersonFactory, TenantFactory

CREATE = """
mutation($input: CreateCourseInput!) { createCourse(input: $input) { id slug status title description maxEnrollment
  instructor { id } } }
"""
COURSES = """
query($status: CourseStatus, $search: String, $first: Int, $after: String) {
  courses(status: $status, search: $search, pagination: {first: $first, after: $after}) {
    totalCount edges { cursor node { id title status } } pageInfo { hasNextPage endCursor }
  }
}
"""
COURSE = "query($id: ID!) { course(id: $id) { id title status modules { title position lessons { title position } } } }"


async def test_create_update_publish_archive(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, owner_conn: psycopg.Connection
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    token = await login(client, teacher)
    reply = await gql(client, CREATE, {"input": {"title": "Über Graphs & Trees!", "maxEnrollment": 30}}, token=token)
    course = reply.data["createCourse"]
    assert course["slug"] == "uber-graphs-trees"
    assert (course["status"], course["maxEnrollment"], course["instructor"]["id"]) == ("DRAFT", 30, str(teacher.id))
    again = await gql(client, CREATE, {"input": {"title": "Uber graphs trees"}}, token=token)
    assert again.codes == ["CONFLICT"]

    update = "mutation($id: ID!, $input: UpdateCourseInput!) { updateCourse(id: $id, input: $input) { title description maxEnrollment } }"
    reply = await gql(client, update, {"id": course["id"], "input": {"description": "All about graphs"}}, token=token)
    assert reply.data["updateCourse"] == {
        "title": "Über Graphs & Trees!",
        "description": "All about graphs",
        "maxEnrollment": 30,
    }
    reply = await gql(
        client, update, {"id": course["id"], "input": {"maxEnrollment": None, "title": "Graphs"}}, token=token
    )
    assert reply.data["updateCourse"] == {"title": "Graphs", "description": "All about graphs", "maxEnrollment": None}

    publish = "mutation($id: ID!) { publishCourse(id: $id) { status publishedAt } }"
    assert (await gql(client, publish, {"id": course["id"]}, token=token)).codes == ["BAD_USER_INPUT"]  # empty
    module = await gql(
        client, 'mutation($c: ID!) { createModule(input: {courseId: $c, title: "Basics"}) { id position } }',
        {"c": course["id"]}, token=token,
    )  # fmt: skip
    module_id = module.data["createModule"]["id"]
    for title in ("One", "Two"):
        await gql(
            client, "mutation($m: ID!, $t: String!) { createLesson(input: {moduleId: $m, title: $t, contentType: TEXT}) { id } }",
            {"m": module_id, "t": title}, token=token,
        )  # fmt: skip
    reply = await gql(client, publish, {"id": course["id"]}, token=token)
    assert reply.data["publishCourse"]["status"] == "PUBLISHED"
    assert (await gql(client, publish, {"id": course["id"]}, token=token)).data["publishCourse"][
        "status"
    ] == "PUBLISHED"
    events = owner_conn.execute(
        "SELECT user_id, payload FROM domain_events WHERE event_type = 'course.published' AND course_id = %s",
        (course["id"],),
    ).fetchall()
    assert len(events) == 1  # publishing twice emits once
    assert events[0][0] == teacher.id
    assert events[0][1] == {
        "courseId": course["id"],
        "courseName": "Graphs",
        "instructorId": str(teacher.id),
        "moduleCount": 1,
        "lessonCount": 2,
    }
    archive = "mutation($id: ID!) { archiveCourse(id: $id) { status } }"
    assert (await gql(client, archive, {"id": course["id"]}, token=token)).data == {
        "archiveCourse": {"status": "ARCHIVED"}
    }


async def test_positions_append_and_insert(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    tenant = await make_tenant()
    teacher = await make_user(tenant, "instructor")
    token = await login(client, teacher)
    built = await build_course(db, tenant, teacher.id, modules=1, lessons=2, status="draft")
    add = "mutation($m: ID!, $t: String!, $p: Int) { createLesson(input: {moduleId: $m, title: $t, contentType: VIDEO, position: $p}) { position } }"
    assert (await gql(client, add, {"m": str(built.module_ids[0]), "t": "Last"}, token=token)).data["createLesson"][
        "position"
    ] == 2
    assert (await gql(client, add, {"m": str(built.module_ids[0]), "t": "First", "p": 0}, token=token)).data[
        "createLesson"
    ]["position"] == 0
    reply = await gql(client, COURSE, {"id": str(built.id)}, token=token)
    lessons = reply.data["course"]["modules"][0]["lessons"]
    assert [(item["title"], item["position"]) for item in lessons] == [
        ("First", 0),
        ("L0.0", 1),
        ("L0.1", 2),
        ("Last", 3),
    ]
    module = 'mutation($c: ID!) { createModule(input: {courseId: $c, title: "Intro", position: 0}) { position } }'
    assert (await gql(client, module, {"c": str(built.id)}, token=token)).data["createModule"]["position"] == 0
    reply = await gql(client, COURSE, {"id": str(built.id)}, token=token)
    assert [m["title"] for m in reply.data["course"]["modules"]] == ["Intro", "M0"]
    bad = await gql(client, add, {"m": str(built.module_ids[0]), "t": "x", "p": -1}, token=token)
    assert bad.codes == ["BAD_USER_INPUT"]


async def test_who_may_edit(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    tenant = await make_tenant()
    owner, other = await make_user(tenant, "instructor"), await make_user(tenant, "instructor")
    draft = await build_course(db, tenant, owner.id, status="draft")
    published = await build_course(db, tenant, owner.id)
    rename = 'mutation($id: ID!) { updateCourse(id: $id, input: {title: "Mine now"}) { title } }'
    other_token = await login(client, other)
    assert (await gql(client, rename, {"id": str(published.id)}, token=other_token)).codes == ["FORBIDDEN"]
    assert (await gql(client, rename, {"id": str(draft.id)}, token=other_token)).codes == ["NOT_FOUND"]
    student = await login(client, await make_user(tenant, "student"))
    assert (await gql(client, rename, {"id": str(published.id)}, token=student)).codes == ["FORBIDDEN"]
    assert (await gql(client, CREATE, {"input": {"title": "Nope"}}, token=student)).codes == ["FORBIDDEN"]
    admin = await login(client, await make_user(tenant, "admin"))
    assert (await gql(client, rename, {"id": str(draft.id)}, token=admin)).data == {
        "updateCourse": {"title": "Mine now"}
    }
    # Only admins create courses for someone else, and only for teaching staff.
    for_other = {"input": {"title": "Delegated", "instructorId": str(owner.id)}}
    assert (await gql(client, CREATE, for_other, token=other_token)).codes == ["FORBIDDEN"]
    assert (await gql(client, CREATE, for_other, token=admin)).data["createCourse"]["instructor"]["id"] == str(owner.id)
    student_id = (await make_user(tenant, "student")).id
    to_student = {"input": {"title": "Wrong", "instructorId": str(student_id)}}
    assert (await gql(client, CREATE, to_student, token=admin)).codes == ["BAD_USER_INPUT"]


async def test_input_limits(client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory) -> None:
    token = await login(client, await make_user(await make_tenant(), "instructor"))
    for bad in (
        {"title": "   "},
        {"title": "x" * 501},
        {"title": "ok", "description": "d" * 20_001},
        {"title": "ok", "slug": "Bad Slug"},
        {"title": "ok", "slug": "-x"},
        {"title": "ok", "maxEnrollment": 0},
        {"title": "!!!"},
    ):
        assert (await gql(client, CREATE, {"input": bad}, token=token)).codes == ["BAD_USER_INPUT"], bad


async def test_drafts_are_hidden_from_students(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    tenant = await make_tenant()
    owner = await make_user(tenant, "instructor")
    draft = await build_course(db, tenant, owner.id, title="Secret draft", status="draft")
    public = await build_course(db, tenant, owner.id, title="Open course")
    others_draft = await build_course(db, tenant, (await make_user(tenant, "instructor")).id, status="draft")
    student = await login(client, await make_user(tenant, "student"))
    listing = await gql(client, COURSES, {}, token=student)
    assert [e["node"]["id"] for e in listing.data["courses"]["edges"]] == [str(public.id)]
    assert listing.data["courses"]["totalCount"] == 1
    hidden = await gql(client, COURSE, {"id": str(draft.id)}, token=student)
    assert hidden.codes == ["NOT_FOUND"]
    assert hidden.body["data"] == {"course": None}
    teacher = await login(client, owner)
    mine = await gql(client, COURSES, {}, token=teacher)
    assert {e["node"]["id"] for e in mine.data["courses"]["edges"]} == {str(draft.id), str(public.id)}
    admin = await login(client, await make_user(tenant, "admin"))
    everything = await gql(client, COURSES, {"status": "DRAFT"}, token=admin)
    assert {e["node"]["id"] for e in everything.data["courses"]["edges"]} == {str(draft.id), str(others_draft.id)}
    assert (await gql(client, COURSES, {}, tenant=tenant.slug)).codes == ["UNAUTHENTICATED"]


async def test_three_pages_without_duplicates(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    tenant = await make_tenant()
    owner = await make_user(tenant, "instructor")
    same_time = datetime.now(UTC) - timedelta(days=1)
    created = [
        await build_course(
            db, tenant, owner.id, title=f"Course {i}", modules=0, created_at=same_time if i % 2 else None
        )
        for i in range(7)
    ]
    token = await login(client, await make_user(tenant, "student"))
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        reply = await gql(client, COURSES, {"first": 3, "after": after}, token=token)
        connection = reply.data["courses"]
        assert connection["totalCount"] == 7
        seen += [edge["node"]["id"] for edge in connection["edges"]]
        pages += 1
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert pages == 3
    assert sorted(seen) == sorted(str(course.id) for course in created)
    assert len(seen) == len(set(seen))
    for first in (101, -1):
        assert (await gql(client, COURSES, {"first": first}, token=token)).codes == ["BAD_USER_INPUT"]
    assert (await gql(client, COURSES, {"after": "not-a-cursor"}, token=token)).codes == ["BAD_USER_INPUT"]
    assert (await gql(client, COURSES, {"first": 100}, token=token)).data["courses"]["pageInfo"]["hasNextPage"] is False


async def test_search_matches_title_and_description(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, db: Database
) -> None:
    tenant = await make_tenant()
    owner = await make_user(tenant, "instructor")
    await build_course(db, tenant, owner.id, title="Linear Algebra", modules=0)
    await build_course(db, tenant, owner.id, title="Poetry", description="Rhymes and ALGEBRAIC verse", modules=0)
    await build_course(db, tenant, owner.id, title="100% Chemistry", modules=0)
    token = await login(client, await make_user(tenant, "student"))

    async def titles(search: str) -> list[str]:
        reply = await gql(client, COURSES, {"search": search}, token=token)
        return sorted(edge["node"]["title"] for edge in reply.data["courses"]["edges"])

    assert await titles("algebra") == ["Linear Algebra", "Poetry"]
    assert await titles("100%") == ["100% Chemistry"]
    assert await titles("%") == ["100% Chemistry"]  # a literal percent, not a wildcard
    assert await titles("_") == []
    assert (await gql(client, COURSES, {"search": "x" * 201}, token=token)).codes == ["BAD_USER_INPUT"]
