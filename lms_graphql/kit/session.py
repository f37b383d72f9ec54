"""Sessions whose statements, once sent, run to their end.

graphql-core cancels the sibling fields of a field whose error nulls their parent (a failed
non-null root field cancels the others). A statement cancelled halfway leaves its connection
in an unknown state: SQLAlchemy invalidates it, the transaction is lost, and the request
fails as a whole. Here a cancelled caller waits for its statement to finish (the statement
timeout bounds that), then the cancellation goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


async def finish_then_cancel(work: Awaitable[T]) -> T:
    """``await work``, except that a cancellation arriving meanwhile waits for it to end."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(BaseException):
            await task
        raise


class StatementSafeSession(AsyncSession):
    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        return await finish_then_cancel(super().execute(*args, **kwargs))

    async def flush(self, *args: Any, **kwargs: Any) -> None:
        await finish_then_cancel(super().flush(*args, **kwargs))

    async def get(self, *args: Any, **kwargs: Any) -> Any:
        return await finish_then_cancel(super().get(*args, **kwargs))

    async def refresh(self, *args: Any, **kwargs: Any) -> None:
        await finish_then_cancel(super().refresh(*args, **kwargs))
