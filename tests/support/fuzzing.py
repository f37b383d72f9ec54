"""What the property-based fuzzer (tests/test_property_fuzz.py) draws from: a tenant with real
data and a signed-in user of every role, and strategies for the schema's scalars that mix the
tenant's real ids and values with random and malformed ones."""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import graphql
import httpx
import psycopg
from hypothesis import strategies as st
from sqlalchemy import null

from lms_graphql import models
from lms_graphql.kit.db import Database
from tests.support.builders import build_course, enroll
from tests.support.http import login
from tests.support.people import PASSWORD, Person, PersonFactory, TenantFactory
from tests.support.quizzes import QUESTIONS

ROLES = ("anonymous", "student", "instructor", "admin", "super_admin")
# The limits the fuzzer runs under: cost budgets that never run out, so it explores instead of
# being answered RATE_LIMITED; depth a little above the free plan's.
LIFTED_LIMITS = {
    "max_cost": 10**9,
    "tenant_cost_per_minute": 10**12,
    "user_cost_per_minute": 10**12,
    "max_depth": 15,
}


class World:
    """Not a dataclass: Hypothesis prints a failing test's arguments, and this one's repr is short."""

    def __init__(
        self,
        tenant_id: uuid.UUID,
        slug: str,
        people: dict[str, Person],
        tokens: dict[str, str],
        ids: list[str],
        strings: list[str],
    ) -> None:
        self.tenant_id, self.slug, self.people, self.tokens = tenant_id, slug, people, tokens
        self.ids, self.strings = ids, strings
        self.documents: dict[str | None, st.SearchStrategy[str]] = {}

    def __repr__(self) -> str:
        return f"World({self.slug})"

    def headers(self, role: str) -> dict[str, str]:
        if role == "anonymous":
            return {"X-Tenant-ID": self.slug}
        return {"X-Tenant-ID": self.slug, "Authorization": f"Bearer {self.tokens[role]}"}


async def build_world(
    client: httpx.AsyncClient,
    app: Any,
    db: Database,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    owner_conn: psycopg.Connection,
) -> World:
    """A tenant with a published and a draft course (modules, lessons, a true/false quiz and
    a quiz of every question type), an enrolled student with a submission, a notification and
    a certificate; its limits lifted."""
    tenant = await make_tenant(plan="enterprise", max_users=10_000)
    people = {role: await make_user(tenant, role) for role in ROLES if role != "anonymous"}
    owner_conn.execute(
        "UPDATE tenants SET settings = jsonb_set(settings, '{limits}', %s) WHERE id = %s",
        (json.dumps(LIFTED_LIMITS), tenant.id),
    )
    app.state.services.registry.invalidate(tenant.slug)
    instructor, student = people["instructor"], people["student"]
    course = await build_course(db, tenant, instructor.id, assessments=1)
    draft = await build_course(db, tenant, instructor.id, status="draft", modules=1, lessons=1)
    await enroll(db, tenant, student.id, course.id)
    quiz, submission, notification = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    code = f"CERT-{uuid.uuid4().hex[:12].upper()}"
    async with db.tenant_transaction(tenant.id) as session:
        session.add(
            models.Assessment(
                id=quiz,
                tenant_id=tenant.id,
                course_id=course.id,
                title="Every type",
                assessment_type="quiz",
                max_score=100,
                passing_score=60,
                max_attempts=null(),
                questions=QUESTIONS,
            )
        )
        await session.flush()
        session.add_all(
            [
                models.Submission(
                    id=submission,
                    tenant_id=tenant.id,
                    assessment_id=course.assessment_ids[0],
                    user_id=student.id,
                    attempt_number=1,
                    status="submitted",
                    answers={"q1": True},
                    started_at=datetime.now(UTC),
                    submitted_at=datetime.now(UTC),
                ),
                models.Certificate(
                    tenant_id=tenant.id, user_id=student.id, course_id=course.id, verification_code=code
                ),
            ]
        )
    owner_conn.execute(
        "INSERT INTO notifications (tenant_id, id, user_id, event_type, title) VALUES (%s, %s, %s, 'x', 'Hello')",
        (tenant.id, notification, student.id),
    )
    tokens = {role: await login(client, person) for role, person in people.items()}
    ids = [
        str(value)
        for value in (
            tenant.id, course.id, draft.id, quiz, submission, notification,
            *course.module_ids, *course.lesson_ids[:2], *course.assessment_ids, *draft.module_ids, *draft.lesson_ids,
            *(person.id for person in people.values()),
        )
    ]  # fmt: skip
    # Real strings: emails (never the password: a right changePassword would end the run's
    # tokens), the certificate's code, slugs, and values the question model knows.
    strings = [person.email for person in people.values()] + [code, tenant.slug, course.slug, "a", "b", "2", "5"]
    assert PASSWORD not in strings
    return World(tenant.id, tenant.slug, people, tokens, ids, strings)


def restore(owner_conn: psycopg.Connection, app: Any, world: World) -> None:
    """Undo what would end the exploration: a super_admin's deactivateTenant of its own tenant."""
    changed = owner_conn.execute(
        "UPDATE tenants SET is_active = true WHERE id = %s AND NOT is_active", (world.tenant_id,)
    ).rowcount
    if changed:
        app.state.services.registry.invalidate(world.slug)


# --- scalar strategies -----------------------------------------------------------------

JUNK = st.sampled_from(["", " ", "null", "0", "-1", "not-an-id", "'; DROP TABLE users; --", "%", "\\", "{}", "[]"])
NAMES = st.from_regex(r"\A[_A-Za-z][_0-9A-Za-z]{0,10}\Z")
QUESTION_KEYS = ["id", "type", "prompt", "points", "options", "answer", "answers", "accepted", "caseSensitive",
                 "explanation", "text"]  # fmt: skip
QUESTION_IDS = [str(question["id"]) for question in QUESTIONS] + ["q1", "e"]
QUESTION_TYPES = ["single_choice", "multiple_choice", "true_false", "short_text", "essay", "poll"]
FLOATS = st.floats(allow_nan=False) | st.sampled_from([1e25, 1e26, -1e26, 9999.99, 9999.995, 1e-320, -0.0])


def texts(alphabet: st.SearchStrategy[str], real: list[str]) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, max_size=40) | st.sampled_from(real) | JUNK


def json_values(alphabet: st.SearchStrategy[str], real: list[str]) -> st.SearchStrategy[Any]:
    keys = NAMES | st.sampled_from(QUESTION_KEYS + QUESTION_IDS)
    scalars = st.none() | st.booleans() | st.integers() | FLOATS | texts(alphabet, real) | st.sampled_from(QUESTION_IDS)
    return st.recursive(
        scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5), max_leaves=12
    )


def question_lists(alphabet: st.SearchStrategy[str], real: list[str]) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Lists of question-like objects: near enough to valid ones to get past the first checks."""
    value = json_values(alphabet, real)
    option = st.fixed_dictionaries({"id": st.sampled_from(["a", "b", "2", "5"]) | value, "text": texts(alphabet, real)})
    question = st.fixed_dictionaries(
        {
            "id": st.sampled_from(QUESTION_IDS) | value,
            "type": st.sampled_from(QUESTION_TYPES),
            "prompt": texts(alphabet, real),
            "points": st.integers(-1, 1001) | FLOATS,
        },
        optional={
            "options": st.lists(option, max_size=4) | value,
            "answer": value,
            "answers": st.lists(value, max_size=3) | value,
            "accepted": st.lists(texts(alphabet, real), max_size=3) | value,
            "caseSensitive": st.booleans() | value,
            "explanation": value,
        },
    )
    return st.lists(question, max_size=4) | st.just(QUESTIONS)


def json_documents(alphabet: st.SearchStrategy[str], real: list[str]) -> st.SearchStrategy[Any]:
    """Any JSON, question lists, and answer objects keyed by the quizzes' question ids."""
    value = json_values(alphabet, real)
    answers = st.dictionaries(st.sampled_from(QUESTION_IDS) | NAMES, value, max_size=5)
    return value | question_lists(alphabet, real) | answers


def to_node(value: Any) -> graphql.ValueNode:
    """A JSON value as a GraphQL literal (object keys must then be GraphQL names)."""
    if value is None:
        return graphql.NullValueNode()
    if isinstance(value, bool):
        return graphql.BooleanValueNode(value=value)
    if isinstance(value, int):
        return graphql.IntValueNode(value=str(value))
    if isinstance(value, float):
        # A literal can say what JSON cannot: 1e400 parses as infinity.
        return graphql.FloatValueNode(value=repr(value) if math.isfinite(value) else f"{'-' if value < 0 else ''}1e400")
    if isinstance(value, str):
        return graphql.StringValueNode(value=value)
    if isinstance(value, list):
        return graphql.ListValueNode(values=tuple(to_node(item) for item in value))
    return graphql.ObjectValueNode(
        fields=tuple(
            graphql.ObjectFieldNode(name=graphql.NameNode(value=key), value=to_node(item))
            for key, item in value.items()
        )
    )


def date_times(alphabet: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    offsets = st.builds(timezone, st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23)))
    near = st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC) | offsets
    )
    anywhen = st.datetimes(timezones=st.none() | st.just(UTC) | offsets)
    return (near | anywhen).map(datetime.isoformat) | st.text(alphabet=alphabet, max_size=30) | JUNK


def dates(alphabet: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    near = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1))
    return (near | st.dates()).map(date.isoformat) | st.text(alphabet=alphabet, max_size=12) | JUNK


def scalar_strategies(world: World, allow_nul: bool) -> dict[str, st.SearchStrategy[graphql.ValueNode]]:
    alphabet = st.characters(codec="utf-8", min_codepoint=0 if allow_nul else 1, exclude_categories=["Cs"])
    string = graphql.StringValueNode
    # Mostly real ids (one_of picks a branch uniformly): an id argument takes one kind of id.
    real = st.sampled_from(world.ids)
    ids = st.one_of(real, real, real, real, st.uuids().map(str), texts(alphabet, world.strings))
    return {
        "ID": ids.map(lambda value: string(value=value)) | st.integers(-(2**31), 2**31 - 1).map(to_node),
        "String": texts(alphabet, world.strings).map(lambda value: string(value=value)),
        "Float": FLOATS.map(to_node)
        | st.sampled_from(["1e400", "-1e400"]).map(lambda v: graphql.FloatValueNode(value=v)),
        "DateTime": date_times(alphabet).map(lambda value: string(value=value)),
        "Date": dates(alphabet).map(lambda value: string(value=value)),
        "JSON": json_documents(alphabet, world.strings).map(to_node),
    }
