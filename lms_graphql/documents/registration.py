"""Checking a document once, when it is registered: it parses, it is valid against the schema
being served, and what each of its operations is and costs (at its variables' defaults)."""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
    specified_rules,
    validate,
)

from lms_graphql.documents.manifest import Entry, ManifestError
from lms_graphql.kit.graphql import schema_hash
from lms_graphql.limits.analysis import analyse

# A registered document is an operator's, not a stranger's: well above any plan's token limit,
# still bounded.
MAX_TOKENS = 50_000


@dataclass(frozen=True)
class Checked:
    document_id: str
    body: str
    operation_names: list[str]  # '' for an anonymous operation
    operation_kinds: list[str]  # query, mutation or subscription, in the same order
    cost: int  # the most costly operation's
    schema_hash: str


def check(schema: GraphQLSchema, entry: Entry) -> Checked:
    """The entry, checked; ManifestError (naming the id) when it does not parse or is not valid."""
    try:
        document = parse(entry.body, max_tokens=MAX_TOKENS)
    except GraphQLError as exc:
        raise ManifestError(f"document {entry.document_id}: {exc.message}") from None
    errors = validate(schema, document, specified_rules)
    if errors:
        raise ManifestError(f"document {entry.document_id}: {errors[0].message}")
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    costs = [analyse(schema, operation, fragments, {}).cost for operation in operations]
    return Checked(
        document_id=entry.document_id,
        body=entry.body,
        operation_names=[o.name.value if o.name else "" for o in operations],
        operation_kinds=[o.operation.value for o in operations],
        cost=max(costs),
        schema_hash=schema_hash(schema),
    )
