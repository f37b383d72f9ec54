"""What a query selects below a field, so one resolver can fetch a whole subtree in one statement.

Fragments (named and inline) are flattened and same-named fields merged; @skip/@include are
not evaluated, so a lookahead may fetch a little more than is finally returned, never less.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar, cast

from strawberry.types.nodes import SelectedField, Selection

T = TypeVar("T")


class Lookahead:
    def __init__(self, selections: Iterable[Selection] = ()) -> None:
        self._fields: dict[str, list[SelectedField]] = {}
        self._collect(selections)

    @classmethod
    def of(cls, info: Any) -> Lookahead:
        """The selections below the field being resolved."""
        return cls(selection for field in info.selected_fields for selection in field.selections)

    def _collect(self, selections: Iterable[Selection]) -> None:
        for selection in selections:
            if isinstance(selection, SelectedField):
                self._fields.setdefault(selection.name, []).append(selection)
            else:
                self._collect(selection.selections)

    def __contains__(self, name: str) -> bool:
        return name in self._fields

    def child(self, name: str) -> Lookahead:
        return Lookahead(selection for field in self._fields.get(name, ()) for selection in field.selections)

    def wants(self, path: str) -> bool:
        """``wants("course.modules")``: each dotted step selected under the previous one."""
        head, _, rest = path.partition(".")
        if head not in self:
            return False
        return not rest or self.child(head).wants(rest)


def as_resolver_result(awaitable: Awaitable[T]) -> T:
    """Return an awaitable from a sync resolver: graphql-core awaits what a resolver returns.

    A resolver written this way completes synchronously when its value was prefetched (no
    coroutine, no task, no gather for a list of hundreds) and loads otherwise.
    """
    return cast(T, awaitable)
