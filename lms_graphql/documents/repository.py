"""SQL for registered documents: a tenant's (RLS, as every tenant table) and the platform's (a
reference table, no tenant's data in it)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Row, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql import models
from lms_graphql.errors import conflict
from lms_graphql.kit.repository import TenantScopedRepository

COLUMNS = ("document_id", "body", "operation_names", "operation_kinds", "cost", "schema_hash", "source", "created_at")
_TENANT: Any = models.TrustedDocument.__table__
_PLATFORM: Any = models.PlatformDocument.__table__


class _Documents:
    """What both repositories do, over their table and rows (``scope``: which rows are theirs)."""

    session: AsyncSession
    table: Any

    def scope(self) -> list[ColumnElement[bool]]:
        raise NotImplementedError

    async def find(self, document_id: str) -> Row[Any] | None:
        columns = [self.table.c[name] for name in COLUMNS]
        statement = select(*columns).where(*self.scope(), self.table.c.document_id == document_id)
        return (await self.session.execute(statement)).first()

    async def _add(self, values: dict[str, Any]) -> bool:
        """A document's row (``COLUMNS`` but created_at): True when newly registered, False when
        the same text was already registered under this id; CONFLICT when the id names another
        text."""
        statement = insert(self.table).values(values).on_conflict_do_nothing().returning(self.table.c.document_id)
        if (await self.session.execute(statement)).first() is not None:
            return True
        existing = await self.session.scalar(
            select(self.table.c.body).where(*self.scope(), self.table.c.document_id == values["document_id"])
        )
        if existing != values["body"]:
            raise conflict(f"the id {values['document_id']} is registered for another document: remove it first")
        return False

    async def remove(self, document_id: str) -> bool:
        statement = delete(self.table).where(*self.scope(), self.table.c.document_id == document_id)
        return (await self.session.execute(statement.returning(self.table.c.document_id))).first() is not None

    async def listing(self) -> list[Row[Any]]:
        columns = [self.table.c[name] for name in COLUMNS]
        statement = select(*columns).where(*self.scope()).order_by(self.table.c.created_at, self.table.c.document_id)
        return list((await self.session.execute(statement)).all())


class TrustedDocumentRepository(_Documents, TenantScopedRepository):
    table = _TENANT

    def scope(self) -> list[ColumnElement[bool]]:
        return [self.in_tenant(self.table)]

    async def add(self, fields: dict[str, Any]) -> bool:
        return await self._add({**fields, "tenant_id": self.tenant_id})


class PlatformDocumentRepository(_Documents):
    """The platform's documents, which every tenant's clients may send."""

    table = _PLATFORM

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def scope(self) -> list[ColumnElement[bool]]:
        return []

    async def add(self, fields: dict[str, Any]) -> bool:
        return await self._add(fields)


def repository_for(
    session: AsyncSession, tenant_id: uuid.UUID | None
) -> TrustedDocumentRepository | PlatformDocumentRepository:
    return TrustedDocumentRepository(session, tenant_id) if tenant_id else PlatformDocumentRepository(session)
