"""From a validated query to one SQL statement that returns its ``data`` as JSON text.

The selection is resolved as graphql-core executes it (@skip/@include, fragments, fields
merged under one response key, in document order), then each field is written by the domain
that owns it (``*/json_repository.py``): every list a subquery, every object a JSON text
assembled in PostgreSQL. Root fields read their arguments in Python first, with the
resolvers' own rules; a request they would refuse runs the ordinary way and gets its error.

Plans are cached per (document, operation name, kind of viewer, values of the Boolean
variables, which are all @skip/@include can depend on); each plan keeps its statement text
per shape of its root fields' arguments. Anything the domains do not write raises
NotCompilable: that plan is cached as None, and the operation always runs the ordinary way.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cachetools import LRUCache
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_argument_values,
    get_named_type,
)
from graphql.execution.values import VariableValues, get_directive_values, get_variable_values

from lms_graphql.assessments import json_repository as assessments
from lms_graphql.auth.viewer import Viewer
from lms_graphql.courses import json_repository as courses
from lms_graphql.courses.access import course_rights
from lms_graphql.courses.compiled_reads import CATALOGUE, COURSE
from lms_graphql.dashboard import json_repository as dashboard
from lms_graphql.enrollments import json_repository as enrollments
from lms_graphql.kit import json_sql
from lms_graphql.kit.json_plan import (
    FieldSql,
    Node,
    NotCompilable,
    ObjectType,
    Reading,
    RootField,
    Scope,
    ViewerRights,
)
from lms_graphql.notifications import json_repository as notifications
from lms_graphql.paths import json_repository as paths
from lms_graphql.users import json_repository as users

CACHED_PLANS = 512


def _types(*contributions: Mapping[str, Mapping[str, FieldSql]]) -> dict[str, ObjectType]:
    """Each domain writes its own fields, some of them on other domains' types (Course.instructor)."""
    fields: dict[str, dict[str, FieldSql]] = {}
    for contribution in contributions:
        for type_name, writers in contribution.items():
            fields.setdefault(type_name, {}).update(writers)
    return {name: ObjectType(name, writers) for name, writers in fields.items()}


TYPES = _types(
    courses.FIELDS,
    users.FIELDS,
    enrollments.FIELDS,
    assessments.FIELDS,
    dashboard.FIELDS,
    notifications.FIELDS,
    paths.FIELDS,
)
ROOT_FIELDS: dict[str, RootField] = {
    "courses": CATALOGUE,
    "course": COURSE,
    "myDashboard": RootField(lambda arguments, viewer: Reading(), dashboard.my_dashboard),
    "myEnrollments": RootField(lambda arguments, viewer: Reading(), enrollments.my_enrollments),
    "notifications": RootField(
        lambda arguments, viewer: Reading(bool(arguments.get("unreadOnly"))),
        notifications.my_notifications,
    ),
}
_PLACEHOLDER = re.compile(r"%\(\w+\)s")


@dataclass
class _Collecting:
    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: VariableValues
    numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))


def _included(node: FieldNode | FragmentSpreadNode | InlineFragmentNode, variables: VariableValues) -> bool:
    skip = get_directive_values(GraphQLSkipDirective, node, variables)
    if skip is not None and skip["if"]:
        return False
    include = get_directive_values(GraphQLIncludeDirective, node, variables)
    return include is None or bool(include["if"])


def _collect(
    state: _Collecting,
    selection_set: SelectionSetNode,
    parent: GraphQLObjectType,
    grouped: dict[str, list[FieldNode]],
    visited: set[str],
) -> None:
    """graphql-core's collect_fields, for a schema without interfaces or unions (a fragment
    always names the object type it is spread in)."""
    for selection in selection_set.selections:
        if not _included(selection, state.variables):  # type: ignore[arg-type]
            continue
        if isinstance(selection, FieldNode):
            key = selection.alias.value if selection.alias else selection.name.value
            grouped.setdefault(key, []).append(selection)
            continue
        if isinstance(selection, InlineFragmentNode):
            fragment_set, condition = selection.selection_set, selection.type_condition
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = state.fragments.get(name)
            if name in visited or fragment is None:
                continue
            visited.add(name)
            fragment_set, condition = fragment.selection_set, fragment.type_condition
        else:
            raise NotCompilable(f"unknown selection {selection.kind}")
        if condition is not None and condition.name.value != parent.name:
            raise NotCompilable(f"a fragment on {condition.name.value} inside {parent.name}")
        _collect(state, fragment_set, parent, grouped, visited)


def _nodes(state: _Collecting, selections: list[SelectionSetNode], parent: GraphQLObjectType) -> tuple[Node, ...]:
    grouped: dict[str, list[FieldNode]] = {}
    visited: set[str] = set()
    for selection_set in selections:
        _collect(state, selection_set, parent, grouped, visited)
    nodes = []
    for key, field_nodes in grouped.items():
        name = field_nodes[0].name.value
        number = next(state.numbers)
        if name == "__typename":
            nodes.append(Node(key, name, (), number, field_nodes[0]))
            continue
        definition = parent.fields.get(name)
        if definition is None:
            raise NotCompilable(f"{parent.name}.{name} (introspection)")
        if definition.args and parent is not state.schema.query_type:
            raise NotCompilable(f"{parent.name}.{name} takes arguments")
        returned = get_named_type(definition.type)
        children: tuple[Node, ...] = ()
        if isinstance(returned, GraphQLObjectType):
            children = _nodes(state, [n.selection_set for n in field_nodes if n.selection_set], returned)
        nodes.append(Node(key, name, children, number, field_nodes[0]))
    return tuple(nodes)


@dataclass(frozen=True)
class Root:
    node: Node
    field: RootField | None  # None: __typename
    definition: GraphQLField | None


@dataclass
class Plan:
    roots: tuple[Root, ...]
    rights: ViewerRights
    statements: dict[Hashable, str] = field(default_factory=dict)

    def read(self, variables: VariableValues, viewer: Viewer) -> tuple[Hashable, dict[str, Any]]:
        """The facts and parameters of this request's root fields; raises Fallback."""
        facts, params = [], {}
        for root in self.roots:
            if root.field is None or root.definition is None or root.node.source is None:
                continue
            arguments = get_argument_values(root.definition, root.node.source, variables)
            reading = root.field.read(arguments, viewer)
            facts.append(reading.facts)
            params.update({f"n{root.node.number}_{name}": value for name, value in reading.params.items()})
        return tuple(facts), params

    def statement(self, facts: Hashable) -> str:
        statement = self.statements.get(facts)
        if statement is None:
            statement = self.statements[facts] = self._write(facts)
        return statement

    def _write(self, facts: Any) -> str:
        readings = iter(facts)
        per_root = {root.node.number: next(readings) for root in self.roots if root.field is not None}
        scope = Scope(TYPES, self.rights)
        fields = []
        for root in self.roots:
            if root.field is None:
                fields.append((root.node.key, json_sql.literal('"Query"')))
            else:
                fields.append((root.node.key, root.field.build(root.node, per_root[root.node.number], scope)))
        statement = f"SELECT {json_sql.json_object(fields)}"
        if "%" in _PLACEHOLDER.sub("", statement):  # a bare % would be read as a placeholder
            raise NotCompilable("a literal % in the statement")
        return statement


def plan_for(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: VariableValues,
    viewer: Viewer,
) -> Plan:
    """The plan of ``operation`` for this kind of viewer; raises NotCompilable."""
    if operation.operation != OperationType.QUERY or schema.query_type is None:
        raise NotCompilable("not a query")
    state = _Collecting(schema, fragments, variables)
    roots = []
    for node in _nodes(state, [operation.selection_set], schema.query_type):
        if node.name == "__typename":
            roots.append(Root(node, None, None))
            continue
        root_field = ROOT_FIELDS.get(node.name)
        if root_field is None:
            raise NotCompilable(f"Query.{node.name} is not compiled")
        roots.append(Root(node, root_field, schema.query_type.fields[node.name]))
    return Plan(tuple(roots), course_rights(viewer))


class Plans:
    """Plans by (document, operation name, kind of viewer, Boolean variables), least recently
    used out first. The document is kept whole in the key: plans are cached only for documents
    the document cache keeps (kit/graphql.py), at most 16 KB each."""

    def __init__(self, size: int = CACHED_PLANS) -> None:
        self._plans: LRUCache[Hashable, Plan | None] = LRUCache(maxsize=size)

    def get(
        self,
        schema: GraphQLSchema,
        query: str,
        operation: OperationDefinitionNode,
        fragments: Mapping[str, FragmentDefinitionNode],
        raw_variables: Mapping[str, Any] | None,
        viewer: Viewer,
    ) -> tuple[Plan, VariableValues] | None:
        """The plan and the coerced variables, or None: not compilable, or variables that do
        not coerce (the ordinary path reports them)."""
        variables = get_variable_values(schema, operation.variable_definitions or (), dict(raw_variables or {}))
        if not isinstance(variables, VariableValues):
            return None
        switches = tuple(
            (name, value) for name, value in sorted(variables.coerced.items()) if _is_boolean(variables, name)
        )
        operation_name = operation.name.value if operation.name else None
        key = (schema, query, operation_name, viewer.role, viewer.cross_tenant, switches)
        if key in self._plans:
            plan = self._plans[key]
        else:
            try:
                plan = plan_for(schema, operation, fragments, variables, viewer)
            except NotCompilable:
                plan = None
            self._plans[key] = plan
        return None if plan is None else (plan, variables)


def _is_boolean(variables: VariableValues, name: str) -> bool:
    source = variables.sources.get(name)
    if source is None:
        return False
    kind = source.signature.type
    return (kind.of_type if isinstance(kind, GraphQLNonNull) else kind) is GraphQLBoolean
