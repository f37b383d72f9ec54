"""The audit log: every mutation, and every operator action on a tenant, per tenant.

The package holds the records of requests: the audit log, and the answers kept under
idempotency keys (repository.py)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionNode,
    VariableNode,
)
from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql import models
from lms_graphql.audit.repository import AuditRepository
from lms_graphql.auth.permissions import Permission
from lms_graphql.auth.viewer import Viewer
from lms_graphql.errors import ErrorCode, LmsError
from lms_graphql.kit.pagination import decode_cursor, page_size

SECRET = re.compile(r"pass(word)?|secret|token|authorization|key", re.IGNORECASE)
REDACTED = "[redacted]"


def secret_variables(node: Any, under_secret: bool = False) -> set[str]:
    """Variables bound to secret-looking arguments or input fields, anywhere in ``node``."""
    found: set[str] = set()
    if isinstance(node, VariableNode):
        return {node.name.value} if under_secret else set()
    for argument in getattr(node, "arguments", None) or ():
        found |= secret_variables(argument.value, under_secret or bool(SECRET.search(argument.name.value)))
    if isinstance(node, ObjectValueNode):
        for item in node.fields:
            found |= secret_variables(item.value, under_secret or bool(SECRET.search(item.name.value)))
    if isinstance(node, ListValueNode):
        for value in node.values:
            found |= secret_variables(value, under_secret)
    return found


def redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: REDACTED if SECRET.search(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


async def record(
    session: AsyncSession, tenant_id: uuid.UUID, viewer: Viewer | None, action: str, details: dict[str, Any]
) -> None:
    """Record ``action`` in ``tenant_id``'s log; ``session`` must be bound to that tenant."""
    session.add(
        models.AuditEntry(
            tenant_id=tenant_id,
            actor_tenant_id=viewer.home_tenant_id if viewer is not None else tenant_id,
            actor_user_id=viewer.id if viewer is not None else None,
            action=action,
            details=details,
        )
    )
    await session.flush()


def mutation_fields(
    operation: OperationDefinitionNode | None,
    fragments: dict[str, FragmentDefinitionNode] | None = None,
    variables: dict[str, Any] | None = None,
) -> list[FieldNode]:
    """The root fields a mutation runs, as execution collects them: through inline fragments
    and fragment spreads, without those @skip or @include leave out, once per response key."""
    if operation is None or operation.operation != OperationType.MUTATION:
        return []
    found: dict[str, FieldNode] = {}
    pending: list[SelectionNode] = list(operation.selection_set.selections)
    seen_fragments: set[str] = set()
    while pending:
        selection = pending.pop(0)
        if not _included(selection, variables or {}):
            continue
        if isinstance(selection, FieldNode):
            found.setdefault(selection.alias.value if selection.alias else selection.name.value, selection)
        elif isinstance(selection, InlineFragmentNode):
            pending[:0] = selection.selection_set.selections
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen_fragments:
            seen_fragments.add(selection.name.value)
            fragment = (fragments or {}).get(selection.name.value)
            if fragment is not None:
                pending[:0] = fragment.selection_set.selections
    return list(found.values())


def _included(node: SelectionNode, variables: dict[str, Any]) -> bool:
    """@skip(if:) and @include(if:), with a literal or a variable."""
    for directive in node.directives or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            continue
        for argument in directive.arguments or ():
            value = argument.value
            condition = (
                variables.get(value.name.value) if isinstance(value, VariableNode) else getattr(value, "value", None)
            )
            if argument.name.value == "if" and condition is (name == "skip"):
                return False
    return True


def outcome_of(field: FieldNode, errors: list[GraphQLError]) -> str:
    key = field.alias.value if field.alias else field.name.value
    for error in errors:
        if error.path and error.path[0] == key:
            return str((error.extensions or {}).get("code", "INTERNAL"))
    return "OK"


async def record_mutations(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    viewer: Viewer | None,
    operation: OperationDefinitionNode | None,
    variables: dict[str, Any],
    errors: list[GraphQLError],
    request_id: str,
    fragments: dict[str, FragmentDefinitionNode] | None = None,
) -> None:
    # Only the variables the document declares: anything else in the request was never used.
    declared = (
        {definition.variable.name.value for definition in (operation.variable_definitions or ())}
        if operation
        else set()
    )
    for field in mutation_fields(operation, fragments, variables):
        hidden = secret_variables(field)
        shown = {name: REDACTED if name in hidden else value for name, value in variables.items() if name in declared}
        details = {
            "variables": redact(shown),
            "outcome": outcome_of(field, errors),
            "requestId": request_id,
        }
        await record(session, tenant_id, viewer, field.name.value, details)


async def page(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    viewer: Viewer,
    first: int | None,
    after: str | None,
    action: str | None,
) -> list[Any]:
    """The tenant's audit log, newest first: ``first`` entries after the cursor ``after`` (and one
    more, to tell whether a next page exists). For those who manage the tenant's users."""
    if not viewer.can(Permission.USER_MANAGE):
        raise LmsError(ErrorCode.FORBIDDEN, "your role does not allow this")
    limit = page_size(first)
    return await AuditRepository(session, tenant_id).page(decode_cursor(after) if after else None, limit + 1, action)
