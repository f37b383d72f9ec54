"""Which document a request asks for, when it names one by id instead of (or as well as)
sending its text.

- Automatic persisted queries (Apollo Client's persisted-queries link, graphql-ws clients):
  ``extensions.persistedQuery = {"version": 1, "sha256Hash": ...}``. An unknown hash answers
  PERSISTED_QUERY_NOT_FOUND and the client sends the text with the hash, which registers it
  (in this process: a cache, as Apollo Server's default).
- Trusted documents, registered ahead of use (``lms-graphql documents add``): named by
  ``documentId`` (GraphQL over HTTP's persisted documents, ``sha256:<hex>`` or a bare id),
  Relay's ``doc_id``, or the same ``persistedQuery`` hash.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from typing import Any

from lms_graphql.documents.manifest import MAX_ID_LENGTH, normalized_id
from lms_graphql.documents.store import DocumentStore, Registered
from lms_graphql.errors import ErrorCode, LmsError

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_ID = re.compile(rf"^[\x21-\x7e]{{1,{MAX_ID_LENGTH}}}$")
# Apollo clients recognise the code, and older ones this exact message.
NOT_FOUND_MESSAGE = "PersistedQueryNotFound"


@dataclass(frozen=True)
class Requested:
    query: str
    trusted: Registered | None  # the registered document it is, if it is one
    by_id: bool  # named by id only: its text came from this server
    # An automatic persisted query's (hash, text), to remember once the operation ran: a text
    # that does not parse, validate or pass the limits must not take a place in the cache.
    register: tuple[str, str] | None = None

    def remember_if_it_ran(self, store: DocumentStore, ran: bool) -> None:
        if self.register is not None and ran:
            store.remember_automatic(*self.register)


def _bad(message: str) -> LmsError:
    return LmsError(ErrorCode.BAD_USER_INPUT, message)


def _named(item: dict[str, Any]) -> tuple[str | None, str | None]:
    """The id the request names, and the APQ hash when it named one that way."""
    extensions = item.get("extensions")
    persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
    sha = None
    if persisted is not None:
        if (
            not isinstance(persisted, dict)
            or persisted.get("version") != 1
            or not isinstance(persisted.get("sha256Hash"), str)
            or not _SHA256.match(persisted["sha256Hash"])
        ):
            raise _bad("extensions.persistedQuery must be {version: 1, sha256Hash: 64 lowercase hex digits}")
        sha = persisted["sha256Hash"]
    ident = item.get("documentId", item.get("doc_id"))
    if ident is None:
        return sha, sha
    if not isinstance(ident, str) or not _ID.match(ident):
        raise _bad("'documentId' must be a registered document's id: 1-200 printable characters")
    ident = normalized_id(ident)
    if sha is not None and ident != sha:
        raise _bad("'documentId' and extensions.persistedQuery name different documents")
    return ident, sha


async def requested_document(store: DocumentStore, tenant_id: uuid.UUID, item: Any) -> Requested | None:
    """The document ``item`` names by id, or None when it names none (its 'query' is all).
    Raises LmsError: BAD_USER_INPUT for a malformed id or a text that is not its hash's,
    PERSISTED_QUERY_NOT_FOUND for an id this server does not know."""
    if not isinstance(item, dict):
        return None
    ident, sha = _named(item)
    if ident is None:
        return None
    query = item.get("query")
    if isinstance(query, str) and query:
        if sha is not None and hashlib.sha256(query.encode()).hexdigest() != sha:
            raise _bad("provided sha does not match query")
        registered = await store.registered(tenant_id, ident)
        trusted = registered if registered is not None and registered.body == query else None
        return Requested(query, trusted, False, (sha, query) if sha is not None else None)
    registered = await store.registered(tenant_id, ident)
    if registered is not None:
        return Requested(registered.body, registered, True)
    body = store.automatic(sha) if sha is not None else None
    if body is not None:
        return Requested(body, None, True)
    raise LmsError(ErrorCode.PERSISTED_QUERY_NOT_FOUND, NOT_FOUND_MESSAGE)


async def with_document(
    store: DocumentStore, tenant_id: uuid.UUID, message: Any, kinds: tuple[str, ...]
) -> tuple[Any, Requested | None]:
    """A websocket message of one of ``kinds`` with the text of the document its payload names
    by id, and what was requested (None: no id). Raises as requested_document."""
    payload = message.get("payload") if isinstance(message, dict) and message.get("type") in kinds else None
    if not isinstance(payload, dict):
        return message, None
    requested = await requested_document(store, tenant_id, payload)
    if requested is None:
        return message, None
    return {**message, "payload": {**payload, "query": requested.query}}, requested
