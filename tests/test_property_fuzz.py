"""Property-based fuzzing of the whole schema: hypothesis-graphql writes valid documents over
every query and mutation field, with arguments drawn from the tenant's real ids and values,
random and malformed ones (tests/fuzzing.py), and sends them in process to the ASGI app as
each role. Whatever comes back must be a GraphQL response: no 5xx, no INTERNAL, a JSON
object with data and/or errors, each error with a message and a code.

CI runs a bounded number of examples; LMS_FUZZ_EXAMPLES=5000 explores deeper. Strings include
NUL characters (refused at the boundary as BAD_USER_INPUT) unless LMS_FUZZ_NUL=0. Half the
documents select one root field (so every field is reached), half any number of them (so a
failing non-null field cancels its siblings mid-statement).
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

import httpx
import psycopg
import pytest
from hypothesis import HealthCheck, Phase, find, given, note, settings
from hypothesis import strategies as st
from hypothesis_graphql import from_schema

from lms_graphql.kit.db import Database
from lms_graphql.schema import schema
from tests.support.fuzzing import ROLES, World, build_world, json_documents, restore, scalar_strategies
from tests.support.people import PersonFactory, TenantFactory

EXAMPLES = int(os.environ.get("LMS_FUZZ_EXAMPLES", "250"))
ALLOW_NUL = os.environ.get("LMS_FUZZ_NUL") != "0"
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # nothing written to .hypothesis/; a failure prints its reproduction blob
    print_blob=True,
    suppress_health_check=[
        # The app, client and tenant are set up once per test, on purpose, not per example.
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
GRAPHQL_SCHEMA = schema._schema
ROOT_FIELDS = sorted(
    {*GRAPHQL_SCHEMA.query_type.fields, *(GRAPHQL_SCHEMA.mutation_type.fields if GRAPHQL_SCHEMA.mutation_type else ())}
    if GRAPHQL_SCHEMA.query_type
    else ()
)


@pytest.fixture
async def world(
    client: httpx.AsyncClient,
    app: Any,
    db: Database,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    owner_conn: psycopg.Connection,
) -> World:
    return await build_world(client, app, db, make_tenant, make_user, owner_conn)


def documents(world: World, field: str | None) -> st.SearchStrategy[str]:
    """Documents over one root field (or all), built once per world: building is slow."""
    built = world.documents.get(field)
    if built is None:
        scalars = scalar_strategies(world, ALLOW_NUL)
        fields = None if field is None else [field]
        built = world.documents[field] = from_schema(
            GRAPHQL_SCHEMA, fields=fields, custom_scalars=scalars, allow_x00=ALLOW_NUL
        )
    return built


async def send(client: httpx.AsyncClient, payload: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
    # json.dumps writes what JSON cannot say (Infinity): the server must refuse it as a GraphQL error.
    body = json.dumps(payload)
    try:
        return await client.post("/graphql", content=body, headers={**headers, "Content-Type": "application/json"})
    except Exception as exc:  # the app broke the ASGI protocol (an error after the response started...)
        raise AssertionError(f"no response: {exc!r}") from exc


def check(response: httpx.Response, sent: Any) -> None:
    """The properties every answer has, whatever was sent."""
    assert response.status_code < 500, (response.status_code, response.text[:2000], sent)
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(("not JSON", response.status_code, response.text[:2000], sent)) from None
    assert isinstance(body, dict), (body, sent)
    assert body.keys() & {"data", "errors"}, (body, sent)
    assert body.keys() <= {"data", "errors", "extensions"}, (body, sent)
    for error in body.get("errors") or []:
        assert isinstance(error.get("message"), str), (error, sent)
        code = (error.get("extensions") or {}).get("code")
        assert isinstance(code, str), (error, sent)
        assert code != "INTERNAL", (error, sent)


@pytest.mark.parametrize("role", ROLES)
@FUZZ
@given(data=st.data())
async def test_every_operation_as_every_role(
    client: httpx.AsyncClient, app: Any, owner_conn: psycopg.Connection, world: World, role: str, data: st.DataObject
) -> None:
    field = data.draw(st.one_of(st.none(), st.sampled_from(ROOT_FIELDS)), label="field")
    document = data.draw(documents(world, field), label="document")
    note(document)
    response = await send(client, {"query": document}, world.headers(role))
    check(response, (role, document))
    if "deactivateTenant" in document:
        restore(owner_conn, app, world)


# Through variables JSON reaches the resolvers as parsed from the body: any object key, not
# only GraphQL names; the quizzes' questions and answers in every shape.
JSON_OPERATIONS = {
    "submitAssessment": "mutation($a: ID!, $v: JSON!) { submitAssessment(assessmentId: $a, answers: $v) { id score } }",
    "createAssessment": 'mutation($c: ID!, $v: JSON) { createAssessment(input: {courseId: $c, title: "F",'
    " assessmentType: QUIZ, maxAttempts: null, questions: $v}) { id questions } }",
}


@pytest.mark.parametrize("role", ["student", "instructor"])
@FUZZ
@given(data=st.data())
async def test_json_arguments_through_variables(
    client: httpx.AsyncClient, world: World, role: str, data: st.DataObject
) -> None:
    alphabet = st.characters(codec="utf-8", min_codepoint=0 if ALLOW_NUL else 1, exclude_categories=["Cs"])
    name = data.draw(st.sampled_from(sorted(JSON_OPERATIONS)), label="operation")
    keys = st.text(alphabet=alphabet, max_size=12)
    value = data.draw(json_documents(alphabet, world.strings) | st.dictionaries(keys, st.just("a")), label="json")
    variables = {"a": data.draw(st.sampled_from(world.ids)), "c": data.draw(st.sampled_from(world.ids)), "v": value}
    note(repr(variables))
    response = await send(client, {"query": JSON_OPERATIONS[name], "variables": variables}, world.headers(role))
    check(response, (role, name, variables))


def test_the_fuzzer_reaches_every_root_field() -> None:
    """hypothesis-graphql draws from all root fields; one it cannot generate (a scalar without
    a strategy) fails here rather than being left out in silence."""
    assert len(ROOT_FIELDS) > 30
    probe = World(uuid.UUID(int=0), "probe", {}, {}, ids=[str(uuid.UUID(int=0))], strings=["x"])
    scalars = scalar_strategies(probe, allow_nul=False)
    for name in ROOT_FIELDS:
        document = find(from_schema(GRAPHQL_SCHEMA, fields=[name], custom_scalars=scalars), lambda _: True,
                        settings=settings(database=None, phases=[Phase.generate]))  # fmt: skip
        assert name in document
