"""Helpers shared by repositories, and the base of every tenant-scoped one."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, FromClause, Select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql.errors import conflict
from lms_graphql.kit.pagination import Keyset
from lms_graphql.models import Base


def violated_constraint(exc: IntegrityError) -> str | None:
    diag = getattr(exc.orig, "diag", None)
    return getattr(diag, "constraint_name", None)


async def insert_or_conflict(session: AsyncSession, row: Base, conflicts: dict[str, str]) -> None:
    """Insert ``row``; a violation of a constraint named in ``conflicts`` becomes CONFLICT.

    The savepoint keeps the surrounding transaction usable after the refusal.
    """
    session.add(row)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        message = conflicts.get(violated_constraint(exc) or "")
        if message is None:
            raise
        raise conflict(message) from None
    await session.refresh(row)


class TenantScopedRepository:
    """SQL over one tenant's rows. Every statement filters by the tenant here as well as by
    row-level security in PostgreSQL: a mistake in one layer is caught by the other."""

    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID) -> None:
        self.session = session
        self.tenant_id = tenant_id

    def in_tenant(self, source: Any) -> ColumnElement[bool]:
        """``source``'s rows of this tenant: a table (or alias) or a mapped model."""
        column = source.c.tenant_id if isinstance(source, FromClause) else source.tenant_id
        condition: ColumnElement[bool] = column == self.tenant_id
        return condition


def newest_first(statement: Select[Any], at: Any, key: Any, after: Keyset | None, limit: int) -> Select[Any]:
    """``statement``'s page of ``limit`` rows after the cursor ``after``, newest first (``at``,
    then ``key``, both descending: the keyset the cursors encode)."""
    if after is not None:
        statement = statement.where(tuple_(at, key) < tuple_(after.at, after.id))
    return statement.order_by(at.desc(), key.desc()).limit(limit)
