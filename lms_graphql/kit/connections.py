"""Relay connections over keyset pages (kit/pagination.py): one generic shape, named per node
type by strawberry (``Connection[Enrollment]`` is ``EnrollmentConnection``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry

from lms_graphql.kit.pagination import encode_cursor

T = TypeVar("T")


@strawberry.type(description="Where a page of a connection ends, and whether another follows.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="True when more items follow this page.")
    end_cursor: str | None = strawberry.field(
        description="The last item's cursor: pass it as `after` for the next page; null on an empty page."
    )


@strawberry.type(description="An item of a page, with its cursor.")
class Edge(Generic[T]):
    node: T = strawberry.field(description="The item.")
    cursor: str = strawberry.field(description="Opaque cursor of this item: pass it as `after` to continue after it.")


@strawberry.type(description="A page of items, newest first, and where the next page starts.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of this page, at most `first` of them.")
    page_info: PageInfo = strawberry.field(description="Whether another page follows, and the cursor to ask for it.")


def connection(rows: Sequence[Any], limit: int, node: Callable[[Any], T], at: str) -> Connection[T]:
    """The page of ``rows`` (fetched ``limit + 1`` to know whether another follows), each row's
    cursor from its ``at`` column and id."""
    edges = [Edge(node=node(row), cursor=encode_cursor(getattr(row, at), row.id)) for row in rows[:limit]]
    return Connection(
        edges=edges,
        page_info=PageInfo(has_next_page=len(rows) > limit, end_cursor=edges[-1].cursor if edges else None),
    )
