"""Running a compiled read in the operation's own tenant-bound transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from graphql import FieldNode, FragmentDefinitionNode, GraphQLSchema, OperationDefinitionNode
from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql.assessments.questions import ANSWER_KEYS
from lms_graphql.auth.viewer import Viewer
from lms_graphql.compiled.planner import Plans
from lms_graphql.kit.json_plan import Fallback, NotCompilable
from lms_graphql.kit.json_sql import FALLBACK
from lms_graphql.kit.session import finish_then_cancel

# Zones whose offset is always zero: psycopg gives timestamps these, and isoformat() writes
# +00:00 for them, as the statement does.
UTC_ZONES = frozenset(
    {"UTC", "Etc/UTC", "UCT", "Etc/UCT", "Universal", "Etc/Universal", "Zulu", "Etc/Zulu"}
    | {"GMT", "Etc/GMT", "GMT0", "Etc/GMT0", "GMT+0", "Etc/GMT+0", "GMT-0", "Etc/GMT-0", "Greenwich", "Etc/Greenwich"}
)
_ANSWER_KEYS = sorted(ANSWER_KEYS)


@dataclass(frozen=True)
class Operation:
    schema: GraphQLSchema
    query: str
    operation: OperationDefinitionNode
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Mapping[str, Any] | None


@dataclass(frozen=True)
class Prepared:
    statement: str
    params: dict[str, Any]
    first_field: FieldNode | None  # where an error of the statement is reported
    first_key: str | None  # None: every root field was skipped


def prepare(plans: Plans, operation: Operation, viewer: Viewer, tenant_id: Any) -> Prepared | None:
    """The statement and parameters answering ``operation``, or None: it runs the ordinary way."""
    found = plans.get(
        operation.schema, operation.query, operation.operation, operation.fragments, operation.variables, viewer
    )
    if found is None:
        return None
    plan, variables = found
    try:
        facts, params = plan.read(variables, viewer)
        statement = plan.statement(facts)
    except (Fallback, NotCompilable):
        return None
    params.update(tenant_id=tenant_id, viewer_id=viewer.id, now=datetime.now(UTC), answer_keys=_ANSWER_KEYS)
    first = plan.roots[0].node if plan.roots else None
    return Prepared(statement, params, first.source if first else None, first.key if first else None)


async def run(session: AsyncSession, prepared: Prepared) -> str | None:
    """The ``data`` of the response as JSON text, or None when the connection's time zone is
    not UTC, its string literals are not standard (the statement's regular expressions have
    backslashes), or a value could not be written as the ordinary path would (FALLBACK)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    info = raw.driver_connection.info  # type: ignore[union-attr]
    if not is_utc(info.timezone) or info.parameter_status("standard_conforming_strings") != "on":
        return None
    result = await finish_then_cancel(connection.exec_driver_sql(prepared.statement, prepared.params))
    text = result.scalar_one()
    if not isinstance(text, str) or FALLBACK in text:
        return None
    return text


def is_utc(zone: tzinfo) -> bool:
    return zone is UTC or getattr(zone, "key", None) in UTC_ZONES
