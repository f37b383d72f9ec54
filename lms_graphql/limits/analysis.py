"""What an operation asks for, before it runs: depth, aliases, and an estimated cost.

Cost counts the objects a query can return: every field costs one per parent object, and a
list field multiplies what is below it by its length:

- a field taking a page size (``first``, or ``pagination: {first}``; 20 when not given) that
  returns a list: the page size; that returns a page object (``CourseConnection``,
  ``AuditPage``): the page size multiplies what is under the page's ``edges`` and ``nodes``,
  not its ``pageInfo`` or ``totalCount``;
- a list of the introspection types (``__Schema.types``, ``__Type.fields``...): its mean
  length in this schema, and ``__Type.ofType`` (set on list and non-null wrappers only) its
  mean presence, so introspection is priced at about what it returns;
- any other list: DEFAULT_LIST_SIZE.

Depth counts nested selection sets; ``__Type.ofType`` adds none: it unwraps a list or
non-null wrapper of the same type reference rather than following a relation.

Linear in the document: each fragment is summarised once (a summary is per object of its
type, so applying it at a spread is O(1) whatever the multiplier), in dependency order
without recursion through spreads. Past NODE_BUDGET selections the analysis stops and the
operation is reported incomplete (refused as too complex).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import orjson
from cachetools import LRUCache
from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SchemaMetaFieldDef,
    SelectionSetNode,
    TypeMetaFieldDef,
    TypeNameMetaFieldDef,
    VariableNode,
    Visitor,
    is_enum_type,
    is_input_object_type,
    is_interface_type,
    is_object_type,
    is_union_type,
    value_from_ast_untyped,
    visit,
)

from lms_graphql.kit.graphql import CACHED_DOCUMENT_CHARS, CACHED_DOCUMENTS
from lms_graphql.kit.pagination import DEFAULT_PAGE_SIZE

DEFAULT_LIST_SIZE = 10
PAGE_ARGUMENTS = ("first", "pagination")
PAGE_ITEM_FIELDS = ("edges", "nodes")
# Selections visited in one analysis. Each is visited at most twice (finding the fragments it
# spreads, then summarising) and is at least one token: within the largest plan's token limit
# (5 000) that is 10 000 visits; only a tenant's raised token limit gets near this.
NODE_BUDGET = 50_000
# Costs saturate here: a chain of fragments each spreading the previous twice doubles the
# cost per fragment, and the numbers stay machine-sized.
COST_CEILING = 10**15


@dataclass(frozen=True)
class Shape:
    depth: int = 0
    aliases: int = 0
    cost: int = 0
    visits: int = 0  # selections looked at: at most twice the document's, whatever it spreads
    complete: bool = True  # False: stopped at the node budget (or nesting Python cannot walk)


@dataclass(frozen=True)
class Summary:
    """A selection set, per object of its parent type."""

    cost: float  # objects returned, the page's items aside
    per_item: float  # objects returned per item of the page the parent is (its edges/nodes)
    depth: int  # selection-set levels, this one included
    aliases: int


NOTHING = Summary(0.0, 0.0, 0, 0)


class BudgetExceeded(Exception):
    pass


def _unwrap(type_: Any) -> tuple[Any, bool]:
    is_list = False
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        if isinstance(type_, GraphQLList):
            is_list = True
        type_ = type_.of_type
    return type_, is_list


@functools.lru_cache(maxsize=8)
def introspection_list_sizes(schema: GraphQLSchema) -> dict[tuple[str, str], float]:
    """The mean length of each list of the introspection types in this schema.

    Means over the parent population multiply out to the real totals: types x fields per
    type x arguments per field is the number of arguments in the schema."""
    types = list(schema.type_map.values())
    with_fields = [t for t in types if is_object_type(t) or is_interface_type(t)]
    fields = [f for t in with_fields for f in t.fields.values()]
    directives = schema.directives

    def mean(total: int, over: int) -> float:
        return total / over if over else 0.0

    references = [f.type for f in fields] + [a.type for f in fields for a in f.args.values()]
    references += [f.type for t in types if is_input_object_type(t) for f in t.fields.values()]
    references += [a.type for d in directives for a in d.args.values()]
    wrappers = sum(_wrappers(reference) for reference in references)
    possible = sum(len(t.types) for t in types if is_union_type(t)) + sum(
        len(schema.get_implementations(t).objects) for t in types if is_interface_type(t)
    )
    return {
        ("__Schema", "types"): float(len(types)),
        ("__Schema", "directives"): float(len(directives)),
        ("__Type", "fields"): mean(len(fields), len(types)),
        ("__Type", "interfaces"): mean(sum(len(t.interfaces) for t in with_fields), len(types)),
        ("__Type", "possibleTypes"): mean(possible, len(types)),
        ("__Type", "enumValues"): mean(sum(len(t.values) for t in types if is_enum_type(t)), len(types)),
        ("__Type", "inputFields"): mean(sum(len(t.fields) for t in types if is_input_object_type(t)), len(types)),
        ("__Field", "args"): mean(sum(len(f.args) for f in fields), len(fields)),
        ("__Directive", "args"): mean(sum(len(d.args) for d in directives), len(directives)),
        # Set on wrappers only: priced as a list of at most one, a chain of ofType costs
        # 1 / (1 - p) levels, the mean number of levels of a type reference.
        ("__Type", "ofType"): mean(wrappers, len(references) + wrappers),
    }


def _wrappers(type_: Any) -> int:
    count = 0
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        count, type_ = count + 1, type_.of_type
    return count


def _page_size(node: FieldNode, field: GraphQLField, variables: dict[str, Any]) -> int | None:
    """The page a field is asked for; None when it takes no page size."""
    if not any(name in field.args for name in PAGE_ARGUMENTS):
        return None
    given = {argument.name.value: argument.value for argument in node.arguments or ()}
    if "first" in field.args:
        first = value_from_ast_untyped(given["first"], variables) if "first" in given else None
        if not isinstance(first, int):
            first = field.args["first"].default_value
    else:
        pagination = value_from_ast_untyped(given["pagination"], variables) if "pagination" in given else None
        first = pagination.get("first") if isinstance(pagination, dict) else None
    # Variables are not coerced yet: a page of 10**400 must not overflow the arithmetic.
    return min(max(first, 0), COST_CEILING) if isinstance(first, int) else DEFAULT_PAGE_SIZE


class Analysis:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        node_budget: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.node_budget = node_budget
        self.visits = 0
        self.summaries: dict[str, Summary] = {}
        self.list_sizes = introspection_list_sizes(schema)

    def visit(self, selection_set: SelectionSetNode) -> None:
        self.visits += len(selection_set.selections)
        if self.visits > self.node_budget:
            raise BudgetExceeded

    def summarise_fragments(self, selection_set: SelectionSetNode) -> None:
        """Every fragment reachable from here, each after the fragments it spreads (an
        explicit stack: a chain of fragments is as long as the document allows)."""
        if not self.fragments:
            return
        pending = [(name, False) for name in self.spreads_in(selection_set)]
        started: set[str] = set()
        while pending:
            name, spreads_done = pending.pop()
            if spreads_done:
                fragment = self.fragments[name]
                target = self.schema.get_type(fragment.type_condition.name.value)
                self.summaries[name] = self.summarise(fragment.selection_set, target)
            elif name not in started and name in self.fragments:
                started.add(name)  # a cycle (refused by validation anyway) spreads nothing
                pending.append((name, True))
                pending.extend((spread, False) for spread in self.spreads_in(self.fragments[name].selection_set))

    def spreads_in(self, selection_set: SelectionSetNode) -> list[str]:
        found: list[str] = []
        stack = [selection_set]
        while stack:
            selections = stack.pop()
            self.visit(selections)
            for selection in selections.selections:
                if isinstance(selection, FragmentSpreadNode):
                    found.append(selection.name.value)
                elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set is not None:
                    stack.append(selection.selection_set)
        return found

    def field_definition(self, parent: Any, name: str) -> GraphQLField | None:
        if name == "__typename":
            return TypeNameMetaFieldDef
        if parent is not None and parent is self.schema.query_type:
            if name == "__schema":
                return SchemaMetaFieldDef
            if name == "__type":
                return TypeMetaFieldDef
        field: GraphQLField | None = (getattr(parent, "fields", None) or {}).get(name)
        return field

    def summarise(self, selection_set: SelectionSetNode, parent: Any) -> Summary:
        cost = per_item = 0.0
        depth, aliases = 1, 0
        parent_name = getattr(parent, "name", None)
        self.visit(selection_set)
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                aliases += selection.alias is not None
                cost += 1
                if selection.selection_set is None:
                    continue
                field = self.field_definition(parent, name)
                child_type, is_list = _unwrap(field.type) if field is not None else (None, False)
                child = self.summarise(selection.selection_set, child_type)
                aliases += child.aliases
                unwraps = parent_name == "__Type" and name == "ofType"
                depth = max(depth, child.depth + (0 if unwraps else 1))
                page = _page_size(selection, field, self.variables) if field is not None else None
                items = max(page, 1) if page is not None and not is_list else DEFAULT_LIST_SIZE
                each = child.cost + items * child.per_item
                if is_list and name in PAGE_ITEM_FIELDS:
                    per_item += each  # the parent is a page: the field returning it knows its size
                elif is_list and page is not None:
                    cost += max(page, 1) * each
                elif is_list:
                    cost += self.list_sizes.get((parent_name or "", name), DEFAULT_LIST_SIZE) * each
                else:
                    cost += self.list_sizes.get((parent_name or "", name), 1.0) * each
                continue
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition is not None else parent
                child = self.summarise(selection.selection_set, target)
            elif isinstance(selection, FragmentSpreadNode):
                child = self.summaries.get(selection.name.value, NOTHING)
            else:  # pragma: no cover - no other selections exist
                continue
            cost, per_item = cost + child.cost, per_item + child.per_item
            depth, aliases = max(depth, child.depth), aliases + child.aliases
        return Summary(min(cost, COST_CEILING), min(per_item, COST_CEILING), depth, min(aliases, COST_CEILING))


def analyse(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
    node_budget: int = NODE_BUDGET,
) -> Shape:
    defaults = {
        definition.variable.name.value: value_from_ast_untyped(definition.default_value)
        for definition in operation.variable_definitions or ()
        if definition.default_value is not None
    }
    analysis = Analysis(schema, fragments, {**defaults, **variables}, node_budget)
    try:
        analysis.summarise_fragments(operation.selection_set)
        summary = analysis.summarise(operation.selection_set, schema.get_root_type(operation.operation))
    except (BudgetExceeded, RecursionError):
        return Shape(visits=analysis.visits, complete=False)
    total = min(summary.cost + DEFAULT_LIST_SIZE * summary.per_item, COST_CEILING)
    return Shape(summary.depth, summary.aliases, math.ceil(total), analysis.visits)


_shapes: LRUCache[tuple[Any, ...], Shape] = LRUCache(maxsize=CACHED_DOCUMENTS)
_page_variables: LRUCache[tuple[str, str | None], frozenset[str]] = LRUCache(maxsize=CACHED_DOCUMENTS)


def shape_of(
    schema: GraphQLSchema,
    query: str | None,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: dict[str, Any],
) -> Shape:
    """The operation's shape, kept like its parsed document (same text, same size limit) and
    the values of the variables it takes page sizes from: only those change it."""
    cacheable = query is not None and len(query) <= CACHED_DOCUMENT_CHARS
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    key: tuple[Any, ...] | None = None
    if cacheable and query is not None:
        name = operation.name.value if operation.name is not None else None
        sizing = _page_variables.get((query, name))
        if sizing is None:
            sizing = _page_variables[(query, name)] = page_variables(operation, fragments)
        key = (schema, query, name, *(_frozen(variables, variable) for variable in sorted(sizing)))
        if (cached := _shapes.get(key)) is not None:
            return cached
    shape = analyse(schema, operation, fragments, variables)
    if key is not None:
        _shapes[key] = shape
    return shape


def page_variables(operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]) -> frozenset[str]:
    """The variables inside page-size arguments (``first``, ``pagination``) anywhere in the
    operation or the document's fragments: the only ones its shape depends on."""
    found: set[str] = set()

    class _Pages(Visitor):
        def enter_argument(self, node: ArgumentNode, *args: Any) -> None:
            if node.name.value in PAGE_ARGUMENTS:
                visit(node.value, _Names())

    class _Names(Visitor):
        def enter_variable(self, node: VariableNode, *args: Any) -> None:
            found.add(node.name.value)

    for definition in (operation, *fragments.values()):
        visit(definition, _Pages())
    return frozenset(found)


_ABSENT = ("absent",)  # not a JSON value: an absent variable takes its default, null does not


def _frozen(variables: dict[str, Any], name: str) -> Any:
    """A variable's JSON value, hashable."""
    value = variables.get(name, _ABSENT)
    if isinstance(value, dict | list):
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    return value
