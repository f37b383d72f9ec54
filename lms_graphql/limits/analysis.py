"""What an operation asks for, before it runs: depth, aliases, and an estimated cost.

Cost counts the objects a query can return: every field costs one per parent object, and a
list field multiplies what is below it by its page size (``first``, or
``pagination: {first}``, 20 by default) or, for plain lists, DEFAULT_LIST_SIZE.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    value_from_ast_untyped,
)

DEFAULT_PAGE = 20
DEFAULT_LIST_SIZE = 10


@dataclass
class Shape:
    depth: int = 0
    aliases: int = 0
    cost: int = 0


def _unwrap(type_: Any) -> tuple[Any, bool]:
    is_list = False
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        if isinstance(type_, GraphQLList):
            is_list = True
        type_ = type_.of_type
    return type_, is_list


def _page_size(node: FieldNode, variables: dict[str, Any]) -> int:
    for argument in node.arguments or ():
        name = argument.name.value
        value = (
            variables.get(argument.value.name.value)
            if isinstance(argument.value, VariableNode)
            else value_from_ast_untyped(argument.value, variables)
        )
        if name == "first" and isinstance(value, int):
            return max(value, 0)
        if name == "pagination":
            first = value.get("first") if isinstance(value, dict) else None
            return max(first, 0) if isinstance(first, int) else DEFAULT_PAGE
    return DEFAULT_LIST_SIZE


def analyse(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
) -> Shape:
    shape = Shape()
    root = schema.get_root_type(operation.operation)

    def walk(selection_set: SelectionSetNode, parent: Any, multiplier: int, depth: int, seen: frozenset[str]) -> None:
        shape.depth = max(shape.depth, depth)
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.alias is not None:
                    shape.aliases += 1
                name = selection.name.value
                if name.startswith("__"):
                    continue
                field = getattr(parent, "fields", {}).get(name)
                shape.cost += multiplier
                if field is None or selection.selection_set is None:
                    continue
                child, is_list = _unwrap(field.type)
                below = multiplier * (_page_size(selection, variables) if is_list else 1)
                walk(selection.selection_set, child, max(below, 1), depth + 1, seen)
            elif isinstance(selection, InlineFragmentNode):
                target = schema.get_type(selection.type_condition.name.value) if selection.type_condition else parent
                walk(selection.selection_set, target, multiplier, depth, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is not None and name not in seen:
                    target = schema.get_type(fragment.type_condition.name.value)
                    walk(fragment.selection_set, target, multiplier, depth, seen | {name})

    walk(operation.selection_set, root, 1, 1, frozenset())
    return shape
