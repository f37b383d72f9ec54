"""Reading the manifests client toolchains write: document id -> document text.

- Relay (relay-compiler ``persistConfig.file``) and GraphQL Codegen's client preset
  (``persisted-documents.json``): one JSON object, ``{"<id>": "<document>", ...}``.
- Apollo's persisted query manifest (``generate-persisted-query-manifest``):
  ``{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{"id", "body", ...}]}``.

An id that has the form of a hash (MD5 as Relay writes by default, SHA-1 or SHA-256 as Codegen
and Apollo do, hex, optionally ``sha256:``-prefixed) must be that hash of its document: a
manifest whose ids do not match its texts is refused, not half-registered.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import orjson

APOLLO_FORMAT = "apollo-persisted-query-manifest"
MAX_ID_LENGTH = 200
_PREFIXED = re.compile(r"^sha256:([0-9a-f]{64})$")
_HEX = re.compile(r"^[0-9a-f]+$")
_PRINTABLE = re.compile(r"^[\x21-\x7e]+$")
_ALGORITHMS = {32: "md5", 40: "sha1", 64: "sha256"}


class ManifestError(ValueError):
    """The manifest cannot be registered; the message says where and why."""


@dataclass(frozen=True)
class Entry:
    document_id: str
    body: str


def normalized_id(document_id: str) -> str:
    """The id as stored and looked up: ``sha256:<hex>`` (the GraphQL over HTTP persisted
    documents form) is the same document as ``<hex>``."""
    prefixed = _PREFIXED.match(document_id)
    return prefixed.group(1) if prefixed else document_id


def id_problem(document_id: str, body: str) -> str | None:
    """Why ``document_id`` cannot name ``body``, or None."""
    if not 0 < len(document_id) <= MAX_ID_LENGTH or not _PRINTABLE.match(document_id):
        return f"a document id is 1-{MAX_ID_LENGTH} printable characters without spaces"
    bare = normalized_id(document_id)
    algorithm = _ALGORITHMS.get(len(bare)) if _HEX.match(bare) else None
    if algorithm is not None and hashlib.new(algorithm, body.encode()).hexdigest() != bare:
        return f"the id {document_id!r} looks like a {algorithm.upper()} hash but is not the hash of its document"
    return None


def read_manifest(raw: bytes) -> list[Entry]:
    try:
        data: Any = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ManifestError(f"not JSON: {exc}") from None
    if isinstance(data, dict) and data.get("format") == APOLLO_FORMAT:
        pairs = _apollo_pairs(data)
    elif isinstance(data, dict):
        pairs = list(data.items())
    else:
        raise ManifestError("expected a JSON object: {id: document} or an Apollo persisted query manifest")
    if not pairs:
        raise ManifestError("the manifest holds no documents")
    entries: dict[str, Entry] = {}
    for document_id, body in pairs:
        if not isinstance(document_id, str) or not isinstance(body, str) or not body.strip():
            raise ManifestError(f"entry {document_id!r}: the id and the document must be non-empty strings")
        problem = id_problem(document_id, body)
        if problem:
            raise ManifestError(problem)
        entry = Entry(normalized_id(document_id), body)
        if entries.setdefault(entry.document_id, entry).body != body:
            raise ManifestError(f"the id {document_id!r} names two different documents")
    return list(entries.values())


def _apollo_pairs(data: dict[str, Any]) -> list[tuple[Any, Any]]:
    if data.get("version") != 1:
        raise ManifestError(f"Apollo manifest version {data.get('version')!r}: only version 1 is known")
    operations = data.get("operations")
    if not isinstance(operations, list) or not all(isinstance(o, dict) for o in operations):
        raise ManifestError("an Apollo manifest's 'operations' must be a list of objects")
    return [(operation.get("id"), operation.get("body")) for operation in operations]
