"""SQL for a person's data: what their export holds, what erasure rewrites or deletes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Table, Text, delete, func, or_, select, text, update

from lms_graphql.kit.repository import TenantScopedRepository
from lms_graphql.models import Base
from lms_graphql.models.personal_data import CATALOG, ERASED_NAME
from lms_graphql.models.tables import DATA_EXPORTS, IDEMPOTENCY_KEYS, NOTIFICATIONS, STORED_FILES, USERS

_ERASE_RECORDS = text("SELECT lms_erase_records(:tenant, :user, CAST(:needles AS text[]))")
EXPORT_BATCH = 2000


def table_named(name: str) -> Table:
    table: Table = Base.metadata.tables[name]
    return table


def erased_email(user_id: uuid.UUID) -> str:
    return f"erased-{user_id.hex}@erased.invalid"


class PersonalDataRepository(TenantScopedRepository):
    def _about(self, name: str, user_id: uuid.UUID, mentions: Sequence[str] = ()) -> ColumnElement[bool]:
        """The rows of table ``name`` that are the person's (their subject, or their parent's),
        and those whose JSON ``mentions`` any of ``mentions`` (their id, their email)."""
        data, table = CATALOG[name], table_named(name)
        if data.through is not None:
            column, parent_name = data.through
            parent = table_named(parent_name)
            theirs = select(parent.c.id).where(self.in_tenant(parent), self._about(parent_name, user_id))
            return table.c[column].in_(theirs)
        mentioned = (
            table.c[column].cast(Text).contains(needle, autoescape=True)
            for column in data.mentions
            for needle in mentions
            if needle
        )
        return or_(*(table.c[column] == user_id for column in data.subject), *mentioned)

    async def rows_about(
        self, name: str, user_id: uuid.UUID, mentions: Sequence[str] = ()
    ) -> AsyncGenerator[list[Row[Any]], None]:
        """The person's rows of table ``name`` in batches, without the columns never exported."""
        data, table = CATALOG[name], table_named(name)
        columns = [column for column in table.c if column.name not in data.withheld]
        statement = (
            select(*columns).where(self.in_tenant(table), self._about(name, user_id, mentions)).order_by(table.c.id)
        )
        result = await self.session.stream(statement.execution_options(yield_per=EXPORT_BATCH))
        try:
            async for partition in result.partitions(EXPORT_BATCH):
                yield list(partition)
        finally:
            await result.close()

    async def submission_objects(self, user_id: uuid.UUID) -> list[str]:
        """Keys of the person's submission attachments that were uploaded."""
        statement = select(STORED_FILES.c.object_key).where(
            self.in_tenant(STORED_FILES),
            STORED_FILES.c.uploaded_by == user_id,
            STORED_FILES.c.purpose == "submission",
            STORED_FILES.c.status == "ready",
        )
        return list((await self.session.execute(statement)).scalars())

    async def erase(self, user_id: uuid.UUID, needles: list[str], at: datetime) -> list[str]:
        """Rewrite and delete the person's data (models/personal_data.py says what); returns the keys of the
        objects to delete once this commits."""
        await self.session.execute(_ERASE_RECORDS, {"tenant": self.tenant_id, "user": user_id, "needles": needles})
        files = (
            delete(STORED_FILES)
            .where(
                self.in_tenant(STORED_FILES),
                STORED_FILES.c.uploaded_by == user_id,
                STORED_FILES.c.purpose == "submission",
            )
            .returning(STORED_FILES.c.object_key)
        )
        keys = list((await self.session.execute(files)).scalars())
        archives = (
            delete(DATA_EXPORTS)
            .where(self.in_tenant(DATA_EXPORTS), DATA_EXPORTS.c.user_id == user_id)
            .returning(DATA_EXPORTS.c.object_key)
        )
        keys += [key for key in (await self.session.execute(archives)).scalars() if key is not None]
        for table in (NOTIFICATIONS, IDEMPOTENCY_KEYS):
            await self.session.execute(delete(table).where(self.in_tenant(table), table.c.user_id == user_id))
        await self.session.execute(
            update(USERS)
            .where(self.in_tenant(USERS), USERS.c.id == user_id)
            .values(
                email=erased_email(user_id),
                full_name=ERASED_NAME,
                avatar_url=None,
                password_hash=None,
                last_login_at=None,
                is_active=False,
                token_version=USERS.c.token_version + 1,
                erased_at=at,
                updated_at=func.now(),
            )
        )
        return keys
