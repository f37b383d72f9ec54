"""SQL for users. Every query filters by tenant too: RLS is the second wall, not the only one."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, func, select

from lms_graphql import models
from lms_graphql.kit.repository import TenantScopedRepository, insert_or_conflict

# What the API shows of a user (never the password hash or token version).
PUBLIC_COLUMNS = ("tenant_id", "id", "email", "full_name", "role", "avatar_url", "is_active", "created_at")


class UserRepository(TenantScopedRepository):
    async def count_active(self) -> int:
        statement = (
            select(func.count()).select_from(models.User).where(self.in_tenant(models.User), models.User.is_active)
        )
        return int((await self.session.execute(statement)).scalar_one())

    async def find_by_email(self, email: str) -> models.User | None:
        statement = select(models.User).where(self.in_tenant(models.User), models.User.email == email)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def create(self, *, email: str, full_name: str, role: str, password_hash: str | None) -> models.User:
        user = models.User(
            tenant_id=self.tenant_id,
            email=email,
            full_name=full_name,
            role=role,
            password_hash=password_hash,
        )
        await insert_or_conflict(
            self.session,
            user,
            {"uq_users_tenant_id_email": f"a user with email {email!r} already exists in this tenant"},
        )
        return user

    async def viewer_row(self, user_id: uuid.UUID) -> Row[Any] | None:
        """What a request knows of its signed-in user: a plain row, never expired by a rollback."""
        # Core columns: an ORM statement costs more to run, and a plain row is all this needs.
        table = models.User.__table__
        columns = [table.c[name] for name in (*PUBLIC_COLUMNS, "token_version")]
        statement = select(*columns).where(self.in_tenant(table), table.c.id == user_id)
        return (await self.session.execute(statement)).one_or_none()

    async def get(self, user_id: uuid.UUID) -> models.User | None:
        return await self.session.get(models.User, (self.tenant_id, user_id))

    async def lock(self, user_id: uuid.UUID) -> models.User | None:
        statement = select(models.User).where(self.in_tenant(models.User), models.User.id == user_id).with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def rows_by_ids(self, ids: Sequence[uuid.UUID]) -> list[Row[Any]]:
        """Public columns only: these rows feed the per-request loaders."""
        table = models.User.__table__
        columns = [table.c[name] for name in PUBLIC_COLUMNS]
        statement = select(*columns).where(self.in_tenant(table), table.c.id.in_(ids))
        return list((await self.session.execute(statement)).all())
