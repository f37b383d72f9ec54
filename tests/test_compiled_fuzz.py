"""Random selections over the compiled read types, answered compiled and the ordinary way: the
same bytes every time. Hypothesis writes each document: root fields with arguments as literals
or variables, any fields of the types below them, aliases (some on purpose the names of other
fields), @skip/@include with literals or variables, inline and named fragments, an operation
name or none. Whatever the ordinary path answers without an error, the compiled one must have
answered (X-Execution: compiled).

CI runs a bounded number of examples; LMS_FUZZ_EXAMPLES=2000 explores deeper.
"""

from __future__ import annotations

import itertools
import os
from typing import Any

import httpx
from graphql import GraphQLField, GraphQLObjectType, get_named_type
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from lms_graphql.kit.graphql import CACHED_DOCUMENT_CHARS
from lms_graphql.schema import schema
from tests.support.compiled_world import World, apps, ask, assert_identical, clients, world

__all__ = ["apps", "clients", "world"]  # fixtures

EXAMPLES = int(os.environ.get("LMS_FUZZ_EXAMPLES", "150"))
SCHEMA = schema._schema
# Now and then an alias that may be another field's name: a conflict the validation refuses,
# or one that merges with the field of that name.
CLASHING = ["id", "title", "a"]
SEARCHES = ["", "  ", "page", "PAGE", "é", "50%", "_", "\\", "quoted", "nothing at all"]
STATUSES = ["DRAFT", "PUBLISHED", "ARCHIVED"]
ROOTS = ["courses", "course", "myDashboard", "myEnrollments", "notifications", "__typename"]
# Signed in Python (a URL that expires): a query asking for them runs interpreted, and two
# answers a second apart differ. Not drawn.
INTERPRETED = {("Lesson", "contentUrl"), ("Lesson", "media")}


class Writer:
    """One document, drawn piece by piece."""

    def __init__(self, data: st.DataObject, world: World) -> None:
        self.data, self.world = data, world
        self.numbers = itertools.count(1)
        self.declared: list[str] = []
        self.variables: dict[str, Any] = {}
        self.fragments: list[str] = []

    def draw(self, strategy: st.SearchStrategy[Any]) -> Any:
        return self.data.draw(strategy)

    def variable(self, kind: str, value: Any) -> str:
        name = f"v{next(self.numbers)}"
        self.declared.append(f"${name}: {kind}")
        self.variables[name] = value
        return f"${name}"

    def argument(self, kind: str, literal: str, value: Any) -> str:
        return self.variable(kind, value) if self.draw(st.booleans()) else literal

    def directive(self) -> str:
        kind = self.draw(st.sampled_from(["", "", "", "skip", "include"]))
        if not kind:
            return ""
        value = self.draw(st.booleans())
        condition = self.argument("Boolean!", "true" if value else "false", value)
        return f" @{kind}(if: {condition})"

    def selection(self, parent: GraphQLObjectType, depth: int) -> str:
        fields = sorted(
            (name, field) for name, field in parent.fields.items() if (parent.name, name) not in INTERPRETED
        )
        chosen = self.draw(st.lists(st.sampled_from(fields), min_size=1, max_size=4))
        parts = [self.field(name, field, depth) for name, field in chosen]
        if self.draw(st.integers(0, 5)) == 0:
            parts.append("__typename")
        return " ".join(self.wrapped(part, parent) for part in parts)

    def wrapped(self, part: str, parent: GraphQLObjectType) -> str:
        how = self.draw(st.sampled_from(["plain", "plain", "plain", "inline", "typed", "named"]))
        if how == "inline":
            return f"...{self.directive()} {{ {part} }}"
        if how == "typed":
            return f"... on {parent.name}{self.directive()} {{ {part} }}"
        if how == "named":
            name = f"F{next(self.numbers)}"
            self.fragments.append(f"fragment {name} on {parent.name} {{ {part} }}")
            return f"...{name}{self.directive()}"
        return part

    def alias(self) -> str | None:
        """None mostly, a fresh name often, a clashing one rarely."""
        kind = self.draw(st.integers(0, 9))
        if kind < 6:
            return None
        fresh = f"_{next(self.numbers)}"
        return fresh if kind < 9 else self.draw(st.sampled_from([*CLASHING, fresh]))

    def field(self, name: str, field: GraphQLField, depth: int) -> str:
        alias = self.alias()
        head = f"{alias}: {name}" if alias else name
        named = get_named_type(field.type)
        if not isinstance(named, GraphQLObjectType):
            return head + self.directive()
        body = self.selection(named, depth - 1) if depth > 0 else "__typename"
        return f"{head}{self.directive()} {{ {body} }}"

    def root(self) -> str:
        query = SCHEMA.query_type
        assert query is not None
        name: str = self.draw(st.sampled_from([*ROOTS, "courses", "myDashboard"]))
        if name == "__typename":
            return name
        arguments = self.root_arguments(name)
        alias = self.alias()
        named = get_named_type(query.fields[name].type)
        assert isinstance(named, GraphQLObjectType)
        depth = self.draw(st.integers(1, 4))
        head = f"{alias}: {name}" if alias else name
        return f"{head}{arguments}{self.directive()} {{ {self.selection(named, depth)} }}"

    def root_arguments(self, name: str) -> str:
        given: list[str] = []
        if name == "course":
            course_id = self.draw(st.sampled_from([*self.world.course_ids, "not-an-id"]))
            literal = '"' + course_id + '"'
            return f"(id: {self.argument('ID!', literal, course_id)})"
        if name == "notifications" and self.draw(st.booleans()):
            unread = self.draw(st.sampled_from([None, True, False]))
            literal = "null" if unread is None else str(unread).lower()
            return f"(unreadOnly: {self.argument('Boolean', literal, unread)})"
        if name != "courses":
            return ""
        if self.draw(st.booleans()):
            status = self.draw(st.sampled_from(STATUSES))
            given.append(f"status: {self.argument('CourseStatus', status, status)}")
        if self.draw(st.booleans()):
            search = self.draw(st.sampled_from(SEARCHES))
            literal = '"' + search.replace("\\", "\\\\").replace('"', '\\"') + '"'
            given.append(f"search: {self.argument('String', literal, search)}")
        if self.draw(st.booleans()):
            first = self.draw(st.sampled_from([None, 0, 1, 2, 5, 100]))
            after = self.draw(st.sampled_from([None, *self.world.cursors]))
            value = {"first": first, "after": after}
            first_literal = "null" if first is None else str(first)
            after_literal = "null" if after is None else f'"{after}"'
            literal = f"{{first: {first_literal}, after: {after_literal}}}"
            given.append(f"pagination: {self.argument('PaginationInput', literal, value)}")
        return f"({', '.join(given)})" if given else ""

    def document(self) -> str:
        roots = [self.root() for _ in range(self.draw(st.integers(1, 2)))]
        body = " ".join(roots)
        name = self.draw(st.sampled_from(["", "", "Random"]))
        head = f"query {name}" if name or self.declared else ""
        if self.declared:
            head += f"({', '.join(self.declared)})"
        return f"{head} {{ {body} }} {' '.join(self.fragments)}".strip()


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


@FUZZ
@given(data=st.data())
async def test_random_selections_answer_the_same_bytes_compiled(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient], world: World, data: st.DataObject
) -> None:
    writer = Writer(data, world)
    document = writer.document()
    role = data.draw(st.sampled_from(sorted(world.viewers)))
    note(f"{role}: {document} {writer.variables}")
    viewer = world.viewers[role]
    compiled = await ask(clients[0], viewer, document, writer.variables)
    interpreted = await ask(clients[1], viewer, document, writer.variables)
    assert_identical(compiled, interpreted, (role, document, writer.variables))
    ran = compiled.headers.get("x-execution", "refused before execution")
    event(f"{ran}{', with errors' if 'errors' in compiled.json() else ''}")
    if "errors" not in interpreted.json() and len(document) <= CACHED_DOCUMENT_CHARS:
        assert compiled.headers["x-execution"] == "compiled", (role, document)
