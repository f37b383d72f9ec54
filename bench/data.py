"""The bench data set, generated in SQL by the database owner (a superuser, as the embedded
server's is: bulk rows across tenants bypass row-level security)."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass

import psycopg

from lms_graphql.auth.passwords import HASHER
from lms_graphql.config import DEFAULT_APP_ROLE
from lms_graphql.kit.db import derive_app_password, normalize_url
from lms_graphql.migrate import migrate
from lms_graphql.models.tenant import plan_features

LESSONS_PER_MODULE = 8
MODULES_PER_COURSE = 6
LESSONS_PER_COURSE = LESSONS_PER_MODULE * MODULES_PER_COURSE
# The large tenant's limits: the bench measures the server, not its rate limiter.
UNLIMITED = {"tenant_cost_per_minute": 10**12, "user_cost_per_minute": 10**12, "concurrent_transactions": 20}


@dataclass(frozen=True)
class Sizes:
    tenants: int = 100
    students: int = 20_000  # in the large tenant
    courses: int = 200  # in the large tenant
    enrollments_per_student: int = 10


@dataclass(frozen=True)
class Dataset:
    tenant_id: uuid.UUID
    slug: str
    sizes: Sizes


@dataclass(frozen=True)
class Prepared:
    owner_conninfo: str
    app_conninfo: str
    dataset: Dataset
    generate_seconds: float


def prepare(owner_url: str, sizes: Sizes) -> Prepared:
    """Migrate the database, generate the data set and lift the large tenant's limits."""
    owner = normalize_url(owner_url)
    password = derive_app_password(owner, DEFAULT_APP_ROLE)
    migrate(owner, app_role=DEFAULT_APP_ROLE, app_password=password)
    owner_conninfo = owner.set(drivername="postgresql").render_as_string(hide_password=False)
    app_conninfo = owner.set(drivername="postgresql", username=DEFAULT_APP_ROLE, password=password).render_as_string(
        hide_password=False
    )
    started = time.perf_counter()
    dataset = generate(owner_conninfo, sizes)
    generate_seconds = round(time.perf_counter() - started, 1)
    with psycopg.connect(owner_conninfo, autocommit=True) as conn:
        conn.execute(
            "UPDATE tenants SET settings = jsonb_build_object('limits', %s::jsonb) WHERE id = %s",
            (json.dumps(UNLIMITED), dataset.tenant_id),
        )
    return Prepared(owner_conninfo, app_conninfo, dataset, generate_seconds)


def generate(conninfo: str, sizes: Sizes) -> Dataset:
    big = uuid.uuid4()
    password_hash = HASHER.hash("bench-password")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO tenants (id, slug, name, plan, max_users, features) "
            "VALUES (%s, 'big', 'Big University', 'enterprise', 10000000, %s)",
            (big, list(plan_features("enterprise"))),
        )
        add_small_tenants(conn, 1, sizes.tenants - 1)
        conn.execute(
            """
            INSERT INTO users (tenant_id, email, full_name, role, password_hash)
            SELECT %(t)s, 'student' || g || '@big.example', 'Student ' || g, 'student', %(h)s
            FROM generate_series(1, %(n)s::int) g
            UNION ALL
            SELECT %(t)s, 'teacher' || g || '@big.example', 'Teacher ' || g, 'instructor', %(h)s
            FROM generate_series(1, 20) g
            """,
            {"t": big, "h": password_hash, "n": sizes.students},
        )
        conn.execute(
            """
            INSERT INTO courses (tenant_id, instructor_id, title, slug, description, status, published_at)
            SELECT %(t)s, (SELECT id FROM users WHERE tenant_id = %(t)s AND email = 'teacher' || (1 + g %% 20) || '@big.example'),
                   'Course ' || g, 'course-' || g, 'A course about topic ' || g, 'published', now()
            FROM generate_series(1, %(c)s::int) g
            """,
            {"t": big, "c": sizes.courses},
        )
        conn.execute(
            """
            INSERT INTO modules (tenant_id, course_id, title, position)
            SELECT c.tenant_id, c.id, 'Module ' || m, m FROM courses c, generate_series(0, %(m)s::int - 1) m
            WHERE c.tenant_id = %(t)s
            """,
            {"t": big, "m": MODULES_PER_COURSE},
        )
        conn.execute(
            """
            INSERT INTO lessons (tenant_id, course_id, module_id, title, content_type, content_ref, duration_min, position)
            SELECT m.tenant_id, m.course_id, m.id, 'Lesson ' || m.position || '.' || l, 'video',
                   'https://cdn.example/' || m.id || '/' || l, 10, l
            FROM modules m, generate_series(0, %(l)s::int - 1) l WHERE m.tenant_id = %(t)s
            """,
            {"t": big, "l": LESSONS_PER_MODULE},
        )
        conn.execute(
            """
            INSERT INTO assessments (tenant_id, course_id, title, assessment_type, max_score, passing_score, due_at, questions)
            SELECT tenant_id, id, 'Quiz of ' || title, 'quiz', 10, 6, now() + interval '14 days',
                   '[{"id": "q1", "type": "true_false", "prompt": "True?", "points": 10, "answer": true}]'::jsonb
            FROM courses WHERE tenant_id = %(t)s
            """,
            {"t": big},
        )
        # Each student in N courses; (student * 7 + k) spreads them over the catalogue.
        conn.execute(
            """
            WITH s AS (SELECT id, row_number() OVER (ORDER BY email) AS n FROM users
                       WHERE tenant_id = %(t)s AND role = 'student'),
                 c AS (SELECT id, row_number() OVER (ORDER BY slug) - 1 AS n FROM courses WHERE tenant_id = %(t)s)
            INSERT INTO enrollments (tenant_id, user_id, course_id, enrolled_at, last_accessed_at)
            SELECT %(t)s, s.id, c.id, now() - interval '20 days', now() - (s.n %% 7) * interval '1 day'
            FROM s, generate_series(0, %(k)s::int - 1) k JOIN c ON true
            WHERE c.n = (s.n * 7 + k) %% %(courses)s
            """,
            {"t": big, "k": sizes.enrollments_per_student, "courses": sizes.courses},
        )
        # The first (n mod 12) lessons of each enrolled course completed.
        conn.execute(
            """
            WITH e AS (SELECT e.user_id, e.course_id, (abs(hashtext(e.id::text)) %% 12) AS done
                       FROM enrollments e WHERE e.tenant_id = %(t)s),
                 l AS (SELECT l.id, l.course_id, row_number() OVER (PARTITION BY l.course_id
                              ORDER BY m.position, l.position) AS n
                       FROM lessons l JOIN modules m ON m.tenant_id = l.tenant_id AND m.id = l.module_id
                       WHERE l.tenant_id = %(t)s)
            INSERT INTO lesson_progress (tenant_id, user_id, course_id, lesson_id, status, progress_pct, started_at, completed_at)
            SELECT %(t)s, e.user_id, e.course_id, l.id, 'completed', 100, now() - interval '5 days', now() - interval '4 days'
            FROM e JOIN l ON l.course_id = e.course_id AND l.n <= e.done
            """,
            {"t": big},
        )
        conn.execute(
            """
            UPDATE enrollments e SET progress_pct = round(100.0 * p.done / %(per)s, 2)
            FROM (SELECT user_id, course_id, count(*) AS done FROM lesson_progress WHERE tenant_id = %(t)s
                  GROUP BY user_id, course_id) p
            WHERE e.tenant_id = %(t)s AND e.user_id = p.user_id AND e.course_id = p.course_id
            """,
            {"t": big, "per": LESSONS_PER_COURSE},
        )
        # Vacuumed and analysed now, so autovacuum does not wake up on the fresh rows in the
        # middle of a measurement.
        conn.execute("VACUUM (ANALYZE)")
    return Dataset(big, "big", sizes)


def add_small_tenants(conn: psycopg.Connection, start: int, count: int) -> None:
    """Small tenants: an admin, two instructors, ten students and three courses each."""
    if count <= 0:
        return
    conn.execute(
        """
        INSERT INTO tenants (slug, name, plan, features)
        SELECT 'small-' || g, 'Small school ' || g, 'pro', %(f)s FROM generate_series(%(a)s::int, %(b)s::int) g
        """,
        {"a": start, "b": start + count - 1, "f": list(plan_features("pro"))},
    )
    conn.execute(
        """
        INSERT INTO users (tenant_id, email, full_name, role)
        SELECT t.id, r.role || u || '@' || t.slug || '.example', r.role || ' ' || u, r.role
        FROM tenants t
        CROSS JOIN (VALUES ('admin', 1), ('instructor', 2), ('student', 10)) AS r(role, n)
        CROSS JOIN LATERAL generate_series(1, r.n) u
        WHERE t.slug LIKE 'small-%%' AND NOT EXISTS (SELECT 1 FROM users x WHERE x.tenant_id = t.id)
        """
    )
    conn.execute(
        """
        INSERT INTO courses (tenant_id, instructor_id, title, slug, status, published_at)
        SELECT t.id, (SELECT id FROM users WHERE tenant_id = t.id AND role = 'instructor' LIMIT 1),
               'Course ' || g, 'course-' || g, 'published', now()
        FROM tenants t CROSS JOIN generate_series(1, 3) g
        WHERE t.slug LIKE 'small-%%' AND NOT EXISTS (SELECT 1 FROM courses x WHERE x.tenant_id = t.id)
        """
    )
    conn.execute("VACUUM (ANALYZE) tenants, users, courses")
