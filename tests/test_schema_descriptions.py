"""Every type, field, argument, input field and enum value of the schema is described: GraphiQL's
docs pane is how people explore the API. This walk needs no node; tests/test_schema_lint.py runs
graphql-schema-linter on the same schema."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
)

from lms_graphql.schema import schema


def described_items() -> Iterator[tuple[str, str | None]]:
    """(where, description) for each describable item, as GraphiQL's docs pane names it."""
    for name, named in sorted(schema._schema.type_map.items()):
        if name.startswith("__"):  # introspection types are graphql-core's
            continue
        yield name, named.description
        yield from _members(named)


def _members(named: GraphQLNamedType) -> Iterator[tuple[str, str | None]]:
    if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
        for field_name, field in named.fields.items():
            yield f"{named.name}.{field_name}", field.description
            for arg_name, arg in field.args.items():
                yield f"{named.name}.{field_name}({arg_name}:)", arg.description
    elif isinstance(named, GraphQLInputObjectType):
        for field_name, input_field in named.fields.items():
            yield f"{named.name}.{field_name}", input_field.description
    elif isinstance(named, GraphQLEnumType):
        for value_name, value in named.values.items():
            yield f"{named.name}.{value_name}", value.description


def test_the_walk_reaches_every_kind_of_item() -> None:
    items = dict(described_items())
    for where in ("Course", "Course.title", "Query.courses(search:)", "CreateCourseInput.slug", "Role.ADMIN"):
        assert where in items


def test_everything_in_the_schema_is_described() -> None:
    missing = [where for where, description in described_items() if not (description or "").strip()]
    assert missing == [], f"describe these (description=... in their strawberry definitions): {missing}"


def test_descriptions_start_with_a_capital_letter() -> None:
    # graphql-schema-linter's descriptions-are-capitalized checks fields only; the docs read the same everywhere.
    lowercase = [where for where, description in described_items() if description and description[0].islower()]
    assert lowercase == [], f"capitalize these descriptions: {lowercase}"
