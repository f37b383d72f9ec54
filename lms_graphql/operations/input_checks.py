"""What reaches an operation must be storable: checked once, at the boundary, for every transport.

PostgreSQL refuses a NUL character in text and jsonb, and a lone surrogate cannot be encoded
as UTF-8: either would fail deep inside a write (and, once, inside the audit row). Variables
are also bounded in depth and list length, so coercing them cannot recurse or balloon.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import orjson
from cachetools import LRUCache
from graphql import DocumentNode, StringValueNode, visit
from graphql.language import Visitor
from strawberry.extensions import SchemaExtension

from lms_graphql.errors import ErrorCode, LmsError
from lms_graphql.kit.graphql import CACHED_DOCUMENT_CHARS, CACHED_DOCUMENTS

MAX_LIST_ITEMS = 1_000
MAX_VARIABLE_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff]")


def unstorable(text: str) -> str | None:
    """Why ``text`` cannot be stored, or None."""
    if "\x00" in text:
        return "text must not contain a NUL character (\\u0000)"
    if _SURROGATE.search(text):
        return "text must not contain a lone UTF-16 surrogate"
    return None


def variables_problem(value: Any, depth: int = 0) -> str | None:
    """Why these (JSON-decoded) variables are refused, or None."""
    if depth > MAX_VARIABLE_DEPTH:
        return f"variables are nested more than {MAX_VARIABLE_DEPTH} levels deep"
    if isinstance(value, str):
        return unstorable(value)
    if isinstance(value, list):
        if len(value) > MAX_LIST_ITEMS:
            return f"lists in variables are limited to {MAX_LIST_ITEMS} items"
        return next((p for p in (variables_problem(item, depth + 1) for item in value) if p), None)
    if isinstance(value, dict):
        for key, item in value.items():
            problem = unstorable(key) or variables_problem(item, depth + 1)
            if problem:
                return problem
    return None


def request_problem(item: Any) -> str | None:
    """Why one GraphQL request ({query, variables, operationName, extensions}) is malformed."""
    if not isinstance(item, dict):
        return "the request body must be a JSON object with a 'query'"
    query = item.get("query")
    if not isinstance(query, str) or not query.strip():
        return "the request must carry a 'query' string"
    if item.get("variables") is not None and not isinstance(item["variables"], dict):
        return "'variables' must be a JSON object"
    if item.get("operationName") is not None and not isinstance(item["operationName"], str):
        return "'operationName' must be a string"
    if item.get("extensions") is not None and not isinstance(item["extensions"], dict):
        return "'extensions' must be a JSON object"
    return unstorable(query) or variables_problem(item.get("variables") or {})


class _Strings(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.problem: str | None = None

    def enter_string_value(self, node: StringValueNode, *args: Any) -> Any:
        self.problem = self.problem or unstorable(node.value)
        return self.BREAK if self.problem else None


def document_problem(document: DocumentNode) -> str | None:
    """A string literal in the document that cannot be stored (``"\\u0000"`` is a NUL)."""
    strings = _Strings()
    visit(document, strings)
    return strings.problem


# By document text, as the parsed documents are kept (kit/graphql.py): the same text has the
# same string literals.
_problems: LRUCache[str, str | None] = LRUCache(maxsize=CACHED_DOCUMENTS)


class StorableInput(SchemaExtension):
    """Refuses, before anything runs, a document whose string literals cannot be stored."""

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        document, query = execution.graphql_document, execution.query
        if document is None:
            problem = None
        elif query is None or len(query) > CACHED_DOCUMENT_CHARS:
            problem = document_problem(document)
        elif query in _problems:
            problem = _problems[query]
        else:
            problem = _problems[query] = document_problem(document)
        if problem:
            raise LmsError(ErrorCode.BAD_USER_INPUT, problem)
        yield


def parse_body(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
