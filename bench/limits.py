"""What the query-limit extension adds to each request: document analysis (depth, aliases,
cost) and two token-bucket charges. Run: python -m bench.limits."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

from graphql import get_operation_ast, parse

from lms_graphql.limits.analysis import analyse
from lms_graphql.limits.ratelimit import MemoryLimiter
from lms_graphql.schema import schema

QUERIES = {
    "catalogue page": "{ courses(pagination: {first: 20}) { totalCount edges { cursor node { id title instructor "
    "{ fullName } modules { id } } } } }",
    "full dashboard": """{ myDashboard { overallProgress certificatesEarned enrolledCourses { progressPercent
      lastAccessedAt course { id title slug status enrollmentCount completionRate instructor { id fullName }
      modules { id title position lessons { id title contentType contentRef durationMin position
      myProgress { status progressPct } } } } nextLesson { id title module { id title } } }
      upcomingAssessments { id title dueAt maxScore questions course { id title } mySubmissions { id score } }
      recentActivity { id eventType occurredAt courseId payload }
      certificates { id issuedAt verificationCode course { id title } } } }""",
}


def per_call_microseconds(function: object, rounds: int) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        function()  # type: ignore[operator]
    return (time.perf_counter() - started) / rounds * 1e6


async def main() -> None:
    graphql_schema = schema._schema
    limiter = MemoryLimiter()
    tenant = uuid.uuid4()
    results = {}
    for name, query in QUERIES.items():
        document = parse(query)
        operation = get_operation_ast(document)
        assert operation is not None
        analysis_us = per_call_microseconds(lambda op=operation: analyse(graphql_schema, op, {}, {}), 2_000)
        cost = analyse(graphql_schema, operation, {}, {}).cost
        parse_us = per_call_microseconds(lambda q=query: parse(q), 2_000)
        started = time.perf_counter()
        for _ in range(2_000):
            await limiter.take(f"t:{tenant}", cost, 10**12, 10**9)
            await limiter.take(f"u:{tenant}", cost, 10**12, 10**9)
        charge_us = (time.perf_counter() - started) / 2_000 * 1e6
        results[name] = {
            "cost": cost,
            "analysis_us": round(analysis_us, 1),
            "rate_limit_charges_us": round(charge_us, 1),
            "extension_total_us": round(analysis_us + charge_us, 1),
            "for_scale_parse_us": round(parse_us, 1),
        }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
