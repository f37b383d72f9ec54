"""Two GraphQL responses compared value by value, whatever their field names and nesting.

Each response becomes a multiset of its leaf values (inside JSON scalars too): nulls and
empty lists are absences, numbers compare as decimals (PostGraphile sends numeric columns as
strings), timestamps as instants, enum names without case (``VIDEO`` and ``video``).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

Leaf = tuple[str, Any]

NUMBER = re.compile(r"-?\d+(\.\d+)?")
INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)")
ENUM_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


def number(value: Any) -> Leaf:
    return ("number", format(Decimal(str(value)).normalize(), "f"))


def leaf(value: Any) -> Leaf:
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        return number(value)
    text = str(value)
    if NUMBER.fullmatch(text):
        return number(text)
    if INSTANT.fullmatch(text):
        return ("instant", datetime.fromisoformat(text).astimezone(UTC).isoformat())
    if ENUM_NAME.fullmatch(text):
        return ("text", text.lower())
    return ("text", text)


def leaves(value: Any) -> Counter[Leaf]:
    found: Counter[Leaf] = Counter()
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif item is not None:
            found[leaf(item)] += 1
    return found


def compare(ours: bytes, ours_data: Any, peer: bytes, peer_data: Any, examples: int = 5) -> dict[str, Any]:
    """Value counts and byte sizes of both responses, and the values only one of them has."""
    mine, theirs = leaves(ours_data), leaves(peer_data)
    only_ours, only_peer = mine - theirs, theirs - mine
    return {
        "ours_values": mine.total(),
        "peer_values": theirs.total(),
        "ours_bytes": len(ours),
        "peer_bytes": len(peer),
        "bytes_ratio": round(len(peer) / len(ours), 3) if ours else None,
        "equal_values": mine.total() - only_ours.total(),
        "only_ours": only_ours.total(),
        "only_peer": only_peer.total(),
        "only_ours_examples": [f"{kind} {value}" for (kind, value), _ in only_ours.most_common(examples)],
        "only_peer_examples": [f"{kind} {value}" for (kind, value), _ in only_peer.most_common(examples)],
    }
