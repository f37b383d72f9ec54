"""The pieces a compiled read is made of: the selection as the planner resolved it (``Node``),
how each GraphQL object type writes its fields as SQL (``ObjectType``), the root fields that
read their arguments in Python first (``RootField``), and the ``Scope`` one statement is built
in. Domains describe their types with these (``*/json_repository.py``); compiled/planner.py
puts them together. Anything a builder does not know raises NotCompilable: the operation
then runs the ordinary way.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import FieldNode

from lms_graphql.kit import json_sql


class NotCompilable(Exception):
    """The selection holds something the compiled path cannot prove equal: run it as usual."""


class Fallback(Exception):
    """This request's arguments need the ordinary path (it reports their errors)."""


@dataclass(frozen=True)
class Node:
    """A selected field after @skip/@include, fragments and merging, as graphql-core would
    execute it: its response key, the field's name, its own selections (fields merged under
    one key share them) and a number, unique in the operation, that names its parameters."""

    key: str
    name: str
    children: tuple[Node, ...]
    number: int
    source: FieldNode | None = None  # the first field node under the key: its arguments count

    def param(self, name: str) -> str:
        """The placeholder of one of this field's parameters (see RootField.read)."""
        return f"%(n{self.number}_{name})s"


Row = Mapping[str, str]
"""What an object's fields are written from: names of SQL aliases and expressions, as its
type's builders expect them (``{"course": "c3"}``)."""

FieldSql = Callable[[Node, Row, "Scope"], str]
"""A field's JSON text as a SQL expression, given its node, its parent's row and the scope."""

Write = Callable[[str], str]
"""A value of SQL expression as JSON text (one of kit/json_sql.py's writers)."""


@dataclass(frozen=True)
class ObjectType:
    name: str
    fields: Mapping[str, FieldSql]


@dataclass(frozen=True)
class ViewerRights:
    """What the statement may show, decided in Python from the viewer (auth/policies.py) and
    written into the SQL as constants; the plan cache keeps one plan per kind of viewer."""

    edit_any_course: bool
    edit_own_courses: bool

    def may_edit_course(self, instructor_id: str) -> str:
        """SQL: whether the viewer may edit the course taught by ``instructor_id``."""
        if self.edit_any_course:
            return "true"
        if self.edit_own_courses:
            return f"({instructor_id} = %(viewer_id)s)"
        return "false"


@dataclass(frozen=True)
class Reading:
    """A root field's arguments as read in Python: ``facts`` shape its SQL (and key its cached
    text), ``params`` fill its placeholders."""

    facts: Hashable = ()
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RootField:
    # (arguments as graphql-core coerced them, the viewer) -> Reading; raises Fallback
    read: Callable[[dict[str, Any], Any], Reading]
    # (node, its Reading's facts, scope) -> JSON text of the field
    build: Callable[[Node, Any, Scope], str]


class Scope:
    """One statement being written: the object types, the viewer's rights, fresh alias names."""

    def __init__(self, types: Mapping[str, ObjectType], rights: ViewerRights) -> None:
        self.types = types
        self.rights = rights
        self._numbers: Iterator[int] = itertools.count(1)

    def alias(self, prefix: str) -> str:
        return f"{prefix}{next(self._numbers)}"

    def object(self, type_name: str, node: Node, row: Row) -> str:
        """The JSON object ``node`` selects of a ``type_name`` written from ``row``."""
        object_type = self.types.get(type_name)
        if object_type is None:
            raise NotCompilable(f"no compiled type {type_name}")
        fields = []
        for child in node.children:
            if child.name == "__typename":
                fields.append((child.key, json_sql.literal(f'"{type_name}"')))
                continue
            write = object_type.fields.get(child.name)
            if write is None:
                raise NotCompilable(f"{type_name}.{child.name} is not compiled")
            fields.append((child.key, write(child, row, self)))
        return json_sql.json_object(fields)


def tenant_filter(alias: str) -> str:
    """Every table read also filters by the bound tenant, as the repositories do (RLS is the
    second wall)."""
    return f"{alias}.tenant_id = %(tenant_id)s"


def column(row_name: str, write: Write, name: str) -> FieldSql:
    """A field that is column ``name`` of the row ``row_name``, written by ``write``."""
    return lambda node, row, scope: write(f"{row[row_name]}.{name}")


def optional(write: Write) -> Write:
    """``write`` for a nullable column: SQL NULL becomes JSON null."""
    return lambda expression: json_sql.nullable(write(expression))


def linked_object(scope: Scope, node: Node, table: str, type_name: str, row_name: str, row_id: str) -> str:
    """The ``type_name`` object of the ``table`` row whose id is ``row_id``: one a foreign key
    points at, so always there (if not, the ordinary path would raise: FALLBACK)."""
    alias = scope.alias(row_name[0])
    sources = f"FROM {table} {alias} WHERE {tenant_filter(alias)} AND {alias}.id = {row_id}"
    return json_sql.required(json_sql.scalar_subquery(scope.object(type_name, node, {row_name: alias}), sources))


def linked(table: str, type_name: str, row_name: str, of: str, key: str) -> FieldSql:
    """A field that is the row of ``table`` the foreign key ``key`` of row ``of`` points at."""
    return lambda node, row, scope: linked_object(scope, node, table, type_name, row_name, f"{row[of]}.{key}")
