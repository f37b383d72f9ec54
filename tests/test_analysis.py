"""Pre-execution analysis: linear in the document, introspection and pages priced, refusals charged."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    NameNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_introspection_query,
    get_operation_ast,
    graphql_sync,
    parse,
    print_ast,
)

from lms_graphql.limits.analysis import COST_CEILING, Shape, analyse
from lms_graphql.limits.analysis import shape_of as shape_of_operation
from lms_graphql.limits.extension import REFUSAL_CHARGE
from lms_graphql.limits.plans import PLAN_LIMITS
from lms_graphql.schema import schema
from tests.support.http import gql, login
from tests.support.limits import deep, with_limits
from tests.support.people import PersonFactory, TenantFactory

# What GraphiQL asks for (getIntrospectionQuery with every option a current server supports).
GRAPHIQL_INTROSPECTION = get_introspection_query(
    descriptions=True,
    specified_by_url=True,
    directive_is_repeatable=True,
    schema_description=True,
    input_value_deprecation=True,
)


def shape_of(query: str, variables: dict[str, Any] | None = None, node_budget: int | None = None) -> Shape:
    document = parse(query)
    operation = get_operation_ast(document)
    assert operation is not None
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    if node_budget is None:
        return analyse(schema._schema, operation, fragments, variables or {})
    return analyse(schema._schema, operation, fragments, variables or {}, node_budget)


def doubling_chain(levels: int) -> str:
    """900 bytes at 22 levels: each fragment spreads the one before twice."""
    fragments = ["fragment F0 on Course { id title }"]
    fragments += [f"fragment F{n} on Course {{ ...F{n - 1} ...F{n - 1} }}" for n in range(1, levels)]
    return f'{{ course(id: "x") {{ ...F{levels - 1} }} }} ' + " ".join(fragments)


def aliased_copies(query: str, copies: int) -> str:
    """The query's one root field asked ``copies`` times under aliases, fragments shared."""
    document = parse(query)
    operation = get_operation_ast(document)
    assert operation is not None
    (field,) = operation.selection_set.selections
    assert isinstance(field, FieldNode)
    aliased = tuple(
        FieldNode(
            alias=NameNode(value=f"copy{n}"),
            name=field.name,
            arguments=field.arguments,
            directives=field.directives,
            selection_set=field.selection_set,
        )
        for n in range(copies)
    )
    root = OperationDefinitionNode(operation=operation.operation, selection_set=SelectionSetNode(selections=aliased))
    fragments = tuple(d for d in document.definitions if isinstance(d, FragmentDefinitionNode))
    return print_ast(DocumentNode(definitions=(root, *fragments)))


def fields_in(value: Any) -> int:
    if isinstance(value, dict):
        return len(value) + sum(fields_in(v) for v in value.values())
    if isinstance(value, list):
        return sum(fields_in(v) for v in value)
    return 0


def test_fragments_are_analysed_once_however_often_they_are_spread() -> None:
    chain = doubling_chain(22)
    assert len(chain) < 1000
    shape = shape_of(chain)
    assert shape.complete
    assert shape.cost > PLAN_LIMITS["enterprise"].max_cost  # 2^21 spreads of two fields: refused
    assert shape.visits <= 5 * 22  # each fragment's selections once (and once to find its spreads)
    longer = shape_of(doubling_chain(44))
    assert longer.visits <= 2 * shape.visits + 10  # linear in the document, not in the spreads
    assert shape_of(doubling_chain(300)).cost == COST_CEILING  # the numbers stay machine-sized


def test_aliases_in_a_fragment_count_at_every_spread() -> None:
    query = '{ course(id: "x") { ...A ...A } } fragment A on Course { a: id b: title }'
    assert shape_of(query).aliases == 4


def test_analysis_stops_at_its_node_budget() -> None:
    query = "{ me { " + " ".join(f"f{n}: id" for n in range(50)) + " } }"
    assert shape_of(query).complete
    stopped = shape_of(query, node_budget=20)
    assert not stopped.complete
    assert stopped.visits <= 51  # it stops at the selection set that goes past the budget


def test_introspection_is_priced_at_about_what_it_returns() -> None:
    assert shape_of("{ __typename }").cost == 1
    types = len(schema._schema.type_map)
    assert shape_of("{ __schema { types { name } } }").cost == 2 + types
    full = shape_of(GRAPHIQL_INTROSPECTION)
    returned = fields_in(graphql_sync(schema._schema, GRAPHIQL_INTROSPECTION).data)
    assert returned / 2 < full.cost < returned * 2
    free = PLAN_LIMITS["free"]
    # The ofType chain (nine levels) unwraps a type reference: it adds no depth.
    assert full.depth <= free.max_depth
    assert full.cost <= free.max_cost
    assert shape_of(aliased_copies(GRAPHIQL_INTROSPECTION, 10)).cost > free.max_cost


def test_page_sizes_apply_through_connections() -> None:
    def catalogue(first: int, extra: str = "") -> int:
        return shape_of(
            f"{{ courses(pagination: {{first: {first}}}) {{ edges {{ node {{ id title }} }} {extra} }} }}"
        ).cost

    # courses, edges, then per course: node, id, title.
    assert catalogue(100) == 2 + 100 * 3
    assert catalogue(1) == 2 + 3
    assert catalogue(100, "pageInfo { hasNextPage endCursor } totalCount") == catalogue(100) + 4
    assert shape_of("{ courses { edges { node { id } } } }").cost == 2 + 20 * 2  # the default page
    by_fragment = "{ courses(pagination: {first: 100}) { ...Page } } fragment Page on CourseConnection { edges { node { id title } } }"
    assert shape_of(by_fragment).cost == catalogue(100)
    audit = "{ auditLog(first: 50) { edges { node { action } } hasNextPage } }"
    assert shape_of(audit).cost == 3 + 50 * 2
    by_variable = "query($n: Int = 100) { courses(pagination: {first: $n}) { edges { node { id title } } } }"
    assert shape_of(by_variable).cost == catalogue(100)  # the variable's default
    assert shape_of(by_variable, {"n": 5}).cost == catalogue(5)
    assert shape_of(by_variable, {"n": 10**400}).cost == COST_CEILING  # not coerced yet: no overflow


def test_shapes_are_kept_with_their_document_unless_variables_can_change_them() -> None:
    def shape(query: str, variables: dict[str, Any]) -> Shape:
        document = parse(query)
        operation = get_operation_ast(document)
        assert operation is not None
        return shape_of_operation(schema._schema, query, document, operation, variables)

    fixed = "{ courses(pagination: {first: 3}) { edges { node { id } } } }"
    assert shape(fixed, {}) is shape(fixed, {})
    variable = "query($n: Int) { courses(pagination: {first: $n}) { edges { node { id } } } }"
    assert shape(variable, {"n": 3}).cost < shape(variable, {"n": 30}).cost


async def test_graphiql_introspection_passes_on_the_free_plan_and_ten_copies_do_not(
    client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    tenant = await make_tenant(plan="free")
    reply = await gql(client, GRAPHIQL_INTROSPECTION, tenant=tenant.slug)
    assert reply.data["__schema"]["queryType"]["name"] == "Query"
    refused = await gql(client, aliased_copies(GRAPHIQL_INTROSPECTION, 10), tenant=tenant.slug)
    assert refused.codes == ["QUERY_TOO_COMPLEX"]
    assert refused.body["errors"][0]["extensions"]["cost"] > PLAN_LIMITS["free"].max_cost


async def test_a_refusal_is_charged(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    owner_conn: psycopg.Connection,
    app: Any,
) -> None:
    tenant = await make_tenant()
    token = await login(client, await make_user(tenant))
    await with_limits(owner_conn, app, tenant, user_cost_per_minute=REFUSAL_CHARGE + 1)
    too_deep = deep(PLAN_LIMITS["free"].max_depth + 1)
    response = await client.post("/graphql", json={"query": too_deep}, headers={"Authorization": f"Bearer {token}"})
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert response.headers["x-query-cost"] == str(REFUSAL_CHARGE)
    assert int(response.headers["x-ratelimit-remaining"]) <= 1
    cheap = await gql(client, "{ me { id } }", token=token)
    assert cheap.codes == ["RATE_LIMITED"]
    # With the bucket empty, a refusal is answered as rate limited too.
    again = await gql(client, too_deep, token=token)
    assert (again.status, again.codes) == (429, ["RATE_LIMITED"])
