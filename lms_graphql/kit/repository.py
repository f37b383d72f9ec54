"""Helpers shared by repositories."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql.errors import conflict
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
