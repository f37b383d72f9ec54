"""Documents and tenant limits for the tests of limits."""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
from graphql import Lexer, Source, TokenKind, get_operation_ast, parse

from lms_graphql.limits.analysis import analyse
from lms_graphql.schema import schema
from lms_graphql.tenancy.tenant import TenantConfig


def tokens_in(query: str) -> int:
    lexer, count = Lexer(Source(query)), 0
    while lexer.advance().kind != TokenKind.EOF:
        count += 1
    return count


def shape_of(query: str) -> Any:
    document = parse(query)
    operation = get_operation_ast(document)
    assert operation is not None
    return analyse(schema._schema, operation, {}, {})


def deep(levels: int) -> str:
    """A query ``levels`` selection sets deep: course { modules { course { modules ... } } }."""
    names = ["modules" if n % 2 == 0 else "course" for n in range(levels - 2)]
    inner = "id"
    for name in reversed(names):
        inner = f"{name} {{ {inner} }}"
    return f'{{ course(id: "{uuid.uuid4()}") {{ {inner} }} }}'


async def with_limits(owner_conn: psycopg.Connection, app: Any, tenant: TenantConfig, **limits: int) -> None:
    owner_conn.execute(
        "UPDATE tenants SET settings = jsonb_set(settings, '{limits}', %s) WHERE id = %s",
        (json.dumps(limits), tenant.id),
    )
    app.state.services.registry.invalidate(tenant.slug)
