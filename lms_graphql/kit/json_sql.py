"""SQL expressions that write JSON text inside PostgreSQL, byte for byte as the server's own
encoder (orjson over what graphql-core returns) would write the same values.

PostgreSQL's json_build_object and json_agg write spaces (``{"a" : 1}``, ``[1, 2]``), so the
compiled reads assemble their text themselves: every expression here is SQL yielding a JSON
value as ``text``, never NULL. What is written the same way in both:

- strings: ``to_json(text)`` escapes exactly as orjson (``"`` ``\\``, ``\\b \\f \\n \\r \\t``,
  other control characters as lowercase ``\\u00XX``, everything else as UTF-8);
- floats: our floats are numerics with a fixed scale (percents, scores, rates), and Python's
  ``float(Decimal)`` prints its shortest form: trailing zeros go, ``.0`` stays;
- timestamps: ``datetime.isoformat()`` of a UTC datetime, microseconds only when not zero
  (the compiled path runs only on connections whose time zone is UTC);
- JSON scalars (jsonb): psycopg parses them, orjson writes them again compactly in jsonb's
  key order. jsonb's own text only differs by a space after ``,`` and ``:`` outside strings,
  except for numbers that a float would print differently ("1.50", 17 digits, "0.000001"):
  those make the value FALLBACK.

FALLBACK is a raw control character, which no JSON text written here can contain elsewhere: a
value that cannot be proven equal writes it, and the caller runs the operation the ordinary
way instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence

_LITERAL = re.compile(r"'(?:[^']|'')*'")
FALLBACK = "\x01"
FALLBACK_SQL = "chr(1)"
NULL = "'null'"


def literal(value: str) -> str:
    """A SQL string literal (standard_conforming_strings, as PostgreSQL has had by default since 9.1)."""
    return "'" + value.replace("'", "''") + "'"


def string(expression: str) -> str:
    """A non-null text column as a JSON string."""
    return f"to_json({expression})::text"


def nullable(json_expression: str) -> str:
    return f"coalesce({json_expression}, {NULL})"


def identifier(expression: str) -> str:
    """A uuid as a GraphQL ID (its text has nothing to escape)."""
    return f"('\"' || ({expression})::text || '\"')"


def integer(expression: str) -> str:
    return f"({expression})::text"


def boolean(expression: str) -> str:
    return f"(CASE WHEN {expression} THEN 'true' WHEN NOT {expression} THEN 'false' END)"


def decimal(expression: str) -> str:
    """A numeric with a fixed scale of 1 or more (so its text has a point) as Python prints
    ``float(Decimal(text))`` for up to 15 significant digits: 41.670 -> 41.67, 100.00 -> 100.0."""
    return rf"regexp_replace(rtrim(({expression})::text, '0'), '\.$', '.0')"


def enum(expression: str) -> str:
    """A lowercase enum value as its GraphQL name (``not_started`` -> ``"NOT_STARTED"``); the
    tables' CHECK constraints hold every value to the enum's members."""
    return f"('\"' || upper({expression}) || '\"')"


def timestamp_text(expression: str) -> str:
    """A timestamptz as ``datetime.isoformat()`` in UTC, unquoted: ``2024-05-01T12:00:00.250000+00:00``,
    without ``.000000``; NULL for NULL."""
    return (
        f"(replace(to_char(({expression}) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '')"
        " || '+00:00')"
    )


def timestamp(expression: str) -> str:
    """A timestamptz as strawberry's DateTime writes it (a JSON string); NULL for NULL."""
    return f"('\"' || {timestamp_text(expression)} || '\"')"


# A JSON string token of jsonb's text (jsonb escapes quotes and backslashes inside it).
_STRING_TOKEN = r'"(?:[^"\\]|\\.)*"'  # noqa: S105 - a regular expression


def jsonb(expression: str) -> str:
    """A jsonb value as orjson writes what psycopg parses from it, or FALLBACK when one of its
    numbers would come out otherwise. Numbers in jsonb's text are plain decimals (never an
    exponent); Python reads one with a point as a float, others as an int. They print as
    written when an int has at most 18 digits, or a float has at most 15 significant digits,
    no trailing zero but in ``.0``, and is at least 1e-5 (orjson's plain notation)."""
    skeleton = f"regexp_replace(j.t, '{_STRING_TOKEN}', '\"\"', 'g')"
    unsafe = (
        f"EXISTS (SELECT 1 FROM regexp_matches({skeleton}, '-?[0-9][0-9.]*', 'g') AS m(n)"
        r" WHERE NOT (m.n[1] ~ '^-?[0-9]{1,18}$' OR (m.n[1] ~ '^-?[0-9]+\.([0-9]*[1-9]|0)$'"
        r" AND length(ltrim(translate(m.n[1], '-.', ''), '0')) <= 15 AND m.n[1] !~ '^-?0\.0{5}')))"
    )
    compact = rf"regexp_replace(j.t, '({_STRING_TOKEN})|([,:]) ', '\1\2', 'g')"
    return (
        f"(SELECT CASE WHEN j.t IS NULL THEN {NULL} WHEN {unsafe} THEN {FALLBACK_SQL} ELSE {compact} END"
        f" FROM (SELECT ({expression})::text AS t) AS j)"
    )


def json_object(fields: Sequence[tuple[str, str]]) -> str:
    """``{"key":value,...}`` from (response key, JSON expression) pairs, in the order given.
    concat() would drop a NULL without a trace: a value that is NULL against every expectation
    (a timestamp PostgreSQL cannot format) writes FALLBACK instead."""
    if not fields:
        return "'{}'"
    parts: list[str] = []
    for index, (key, value) in enumerate(fields):
        prefix = "{" if index == 0 else ","
        parts.append(literal(prefix + json.dumps(key) + ":"))
        parts.append(value if _LITERAL.fullmatch(value) else f"coalesce({value}, {FALLBACK_SQL})")
    parts.append("'}'")
    return f"concat({', '.join(parts)})"


def json_array(element: str, sources: str, order_by: Iterable[str]) -> str:
    """``[element,...]`` over the rows of ``sources`` (a FROM ... WHERE ... clause), in order."""
    ordering = ", ".join(order_by)
    aggregate = f"string_agg({element}, ',' ORDER BY {ordering})" if ordering else f"string_agg({element}, ',')"
    return f"(SELECT '[' || coalesce({aggregate}, '') || ']' {sources})"


def scalar_subquery(expression: str, sources: str) -> str:
    return f"(SELECT {expression} {sources})"


def required(json_expression: str) -> str:
    """A value the interpreted path would have to find (a row a foreign key points at): when
    it is missing, that path raises, so this one falls back rather than write null."""
    return f"coalesce({json_expression}, {FALLBACK_SQL})"
