"""Documents compiled reads must answer exactly as the ordinary path: the contract's, the
bench's, the tests' catalogue and dashboard queries, and variations of each feature."""

from __future__ import annotations

from typing import Any

from tests.test_dashboard import COURSE_TREE
from tests.test_dashboard import DASHBOARD as TEST_DASHBOARD

# The bench's documents (bench/limits.py, bench/__main__.py), as it sends them.
BENCH_DASHBOARD = """{ myDashboard { overallProgress certificatesEarned enrolledCourses { progressPercent
      lastAccessedAt course { id title slug status enrollmentCount completionRate instructor { id fullName }
      modules { id title position lessons { id title contentType contentRef durationMin position
      myProgress { status progressPct } } } } nextLesson { id title module { id title } } }
      upcomingAssessments { id title dueAt maxScore questions course { id title } mySubmissions { id score } }
      recentActivity { id eventType occurredAt courseId payload }
      certificates { id issuedAt verificationCode course { id title } } } }"""
BENCH_CATALOGUE_PAGE = (
    "{ courses(pagination: {first: 20}) { totalCount edges { cursor node { id title instructor "
    "{ fullName } modules { id } } } } }"
)
BENCH_CATALOGUE = (
    "{ courses(pagination: {first: 20}) { edges { node { id title instructor { fullName } modules { id } } } } }"
)
ASSESSMENT_FIELDS = """id title assessmentType maxScore passingScore timeLimitMin maxAttempts dueAt questions
    course { id } mySubmissions { id attemptNumber answers score passed feedback status submittedAt gradedAt
      startedAt late assessment { id } user { fullName } }"""

COURSE_FIELDS = """
  id title slug description status maxEnrollment publishedAt createdAt enrollmentCount completionRate
  instructor { id email fullName role avatarUrl createdAt isActive }
  modules { id title position course { id title } lessons {
    id title contentType durationMin position contentRef module { id position }
    myProgress { id status progressPct startedAt completedAt lesson { id title } user { id } } } }
  assessments { ASSESSMENT_FIELDS }
""".replace("ASSESSMENT_FIELDS", ASSESSMENT_FIELDS)

CATALOGUE_FULL = (
    "query($s: CourseStatus, $q: String, $p: PaginationInput) { courses(status: $s, search: $q, pagination: $p) {"
    " totalCount pageInfo { hasNextPage endCursor } edges { cursor node {" + COURSE_FIELDS + "} } } }"
)

# (document, variables) pairs; every one is compiled.
CORPUS: list[tuple[str, dict[str, Any]]] = [
    (BENCH_DASHBOARD, {}),
    (BENCH_CATALOGUE_PAGE, {}),
    (BENCH_CATALOGUE, {}),
    (TEST_DASHBOARD, {}),
    (
        COURSE_TREE + "{ myDashboard { enrolledCourses { ... on EnrolledCourseProgress { course { ...Tree } }"
        " nextLesson { id title contentRef myProgress { status } module { id title } } } } }",
        {},
    ),
    ("{ myDashboard { overallProgress enrolledCourses { course { title } } } }", {}),
    (
        "{ myDashboard { certificatesEarned certificates { id issuedAt verificationCode course { title } user { id } } } }",
        {},
    ),
    ("{ myDashboard { recentActivity { id eventType occurredAt courseId payload __typename } } }", {}),
    ("{ myDashboard { upcomingAssessments { " + ASSESSMENT_FIELDS + " } } }", {}),
    (
        "{ myDashboard { enrolledCourses { progressPercent lastAccessedAt course {" + COURSE_FIELDS + "}"
        " nextLesson { id contentRef durationMin myProgress { status } module { lessons { id contentRef } } } } } }",
        {},
    ),
    (CATALOGUE_FULL, {}),
    (CATALOGUE_FULL, {"p": {"first": 2}}),
    (CATALOGUE_FULL, {"p": {"first": 0}}),
    (CATALOGUE_FULL, {"p": {"first": 100}}),
    (CATALOGUE_FULL, {"p": {"first": None}}),
    (CATALOGUE_FULL, {"s": "DRAFT"}),
    (CATALOGUE_FULL, {"s": "ARCHIVED"}),
    (CATALOGUE_FULL, {"s": "PUBLISHED", "q": "page"}),
    (CATALOGUE_FULL, {"q": "50%_"}),
    (CATALOGUE_FULL, {"q": "  "}),
    (CATALOGUE_FULL, {"q": "É Ü"}),
    (CATALOGUE_FULL, {"q": "\\"}),
    (
        "{ a: courses(pagination: {first: 1}) { pageInfo { endCursor hasNextPage } }"
        " b: courses(pagination: {first: 3}) { e: edges { c: cursor n: node { t: title i: id } } total: totalCount }"
        " __typename }",
        {},
    ),
    (
        "query($yes: Boolean!, $no: Boolean!) { courses { edges { node { id title @skip(if: $yes)"
        " slug @include(if: $no) ...F @include(if: $yes) ... on Course @skip(if: $no) { status } } } }"
        " myDashboard @include(if: $yes) { overallProgress } }  fragment F on Course { createdAt description }",
        {"yes": True, "no": False},
    ),
    (
        "query($yes: Boolean!, $no: Boolean!) { courses { edges { node { id title @skip(if: $yes)"
        " slug @include(if: $no) ...F @include(if: $yes) ... on Course @skip(if: $no) { status } } } }"
        " myDashboard @include(if: $yes) { overallProgress } }  fragment F on Course { createdAt description }",
        {"yes": False, "no": True},
    ),
    (
        "query Page { courses { edges { node { ...A ...A ...B } } } } fragment A on Course { id title ...B }"
        " fragment B on Course { title modules { id } modules { title } }",
        {},
    ),
    ("query One { x: __typename courses { __typename pageInfo { __typename } edges { __typename } } }", {}),
    (
        "{ myEnrollments { id status enrolledAt completedAt progressPercent user { id fullName } course {"
        + COURSE_FIELDS
        + "} } }",
        {},
    ),
    ("{ notifications { id eventType title body payload createdAt readAt eventId } }", {}),
    (
        "query($u: Boolean) { unread: notifications(unreadOnly: $u) { id title readAt }"
        " all: notifications(unreadOnly: false) { id } }",
        {"u": True},
    ),
    ("query($u: Boolean) { notifications(unreadOnly: $u) { id title readAt } }", {"u": None}),
]
