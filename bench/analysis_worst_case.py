"""Worst-case time of the pre-execution analysis for hostile documents at the enterprise token
limit (5 000 tokens), beside parsing and validation for scale. Run: python -m bench.analysis_worst_case."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from graphql import (
    FragmentDefinitionNode,
    Lexer,
    Source,
    TokenKind,
    get_introspection_query,
    get_operation_ast,
    parse,
    specified_rules,
    validate,
)

from lms_graphql.limits.analysis import analyse
from lms_graphql.limits.plans import PLAN_LIMITS
from lms_graphql.schema import schema

TOKENS = PLAN_LIMITS["enterprise"].max_tokens


def tokens_in(query: str) -> int:
    lexer, count = Lexer(Source(query)), 0
    while lexer.advance().kind != TokenKind.EOF:
        count += 1
    return count


def largest(build: Callable[[int], str], start: int = 1) -> str:
    """build(n) with the largest n that stays within the token limit."""
    n = start
    while tokens_in(build(n * 2)) <= TOKENS:
        n *= 2
    low, high = n, n * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if tokens_in(build(middle)) <= TOKENS else (low, middle)
    return build(low)


def doubling_chain(levels: int) -> str:
    fragments = ["fragment F0 on Course { id title }"]
    fragments += [f"fragment F{n} on Course {{ ...F{n - 1} ...F{n - 1} }}" for n in range(1, levels)]
    return f'{{ course(id: "x") {{ ...F{levels - 1} }} }} ' + " ".join(fragments)


def every_earlier_fragment(count: int) -> str:
    fragments = ["fragment F0 on Course { id title }"]
    fragments += [f"fragment F{n} on Course {{ {' '.join(f'...F{m}' for m in range(n))} }}" for n in range(1, count)]
    return f'{{ course(id: "x") {{ ...F{count - 1} }} }} ' + " ".join(fragments)


def wide_fragment_spread_everywhere(width: int) -> str:
    fields = " ".join(f"f{n}: title" for n in range(width))
    spreads = " ".join(f'c{n}: course(id: "x") {{ ...W }}' for n in range(width))
    return f"{{ {spreads} }} fragment W on Course {{ {fields} }}"


def nested(levels: int) -> str:
    names = ["modules" if n % 2 == 0 else "course" for n in range(levels)]
    inner = "id"
    for name in reversed(names):
        inner = f"{name} {{ {inner} }}"
    return f'{{ course(id: "x") {{ {inner} }} }}'


def many_aliases(count: int) -> str:
    return "{ " + " ".join(f"a{n}: me {{ id }}" for n in range(count)) + " }"


def aliased_introspection(copies: int) -> str:
    body = get_introspection_query(descriptions=False)
    start = body.index("__schema {")
    end = body.index("fragment FullType")
    operation = body[start : body.rindex("}", 0, end)]
    return "{ " + " ".join(f"s{n}: {operation}" for n in range(copies)) + " } " + body[end:]


def of_type_chain(levels: int) -> str:
    return "{ __schema { types { " + "ofType { " * levels + "name" + " }" * levels + " } } }"


def recursive_introspection(levels: int) -> str:
    inner = "name"
    for _ in range(levels):
        inner = f"fields {{ type {{ {inner} }} }}"
    return "{ __schema { types { " + inner + " } } }"


DOCUMENTS: dict[str, Callable[[], str]] = {
    "doubling fragment chain (validation refuses: nested too deep)": lambda: largest(doubling_chain),
    "doubling fragment chain, 199 levels": lambda: doubling_chain(199),
    "fragments spreading every earlier one": lambda: largest(every_earlier_fragment),
    "wide fragment spread under every alias": lambda: largest(wide_fragment_spread_everywhere),
    "nested selections, 195 levels": lambda: nested(195),
    "many aliases": lambda: largest(many_aliases),
    "aliased full introspection": lambda: largest(aliased_introspection),
    "ofType chain, 195 levels": lambda: of_type_chain(195),
    "recursive introspection fields/type, 97 levels": lambda: recursive_introspection(97),
}


def best_of(function: Callable[[], object], rounds: int = 5) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times) * 1000


def measure(query: str) -> dict[str, object]:
    graphql_schema = schema._schema
    document = parse(query, max_tokens=TOKENS)
    operation = get_operation_ast(document)
    assert operation is not None
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    shape = analyse(graphql_schema, operation, fragments, {})
    return {
        "tokens": tokens_in(query),
        "bytes": len(query),
        "analysis_ms": round(best_of(lambda: analyse(graphql_schema, operation, fragments, {})), 2),
        "visits": shape.visits,
        "cost": shape.cost,
        "depth": shape.depth,
        "aliases": shape.aliases,
        "for_scale_parse_ms": round(best_of(lambda: parse(query, max_tokens=TOKENS)), 2),
        "for_scale_validate_ms": round(best_of(lambda: validate(graphql_schema, document, specified_rules)), 2),
        "valid": not validate(graphql_schema, document, specified_rules),
    }


def main() -> None:
    print(json.dumps({name: measure(build()) for name, build in DOCUMENTS.items()}, indent=2))


if __name__ == "__main__":
    main()
