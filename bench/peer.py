"""PostGraphile v4 as the bench's peer (bench/peer/: server.js, packages pinned by its
package-lock.json): the same database as the app role under RLS, the tenant bound from the
request's bearer token, and GraphQL documents that read what our dashboard and catalogue read.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from psycopg.conninfo import conninfo_to_dict

from bench.harness import BENCH_KEYS, free_port

PEER_DIR = Path(__file__).with_name("peer")
STAMP = PEER_DIR / "node_modules" / ".installed-lock-sha256"


class PeerUnavailable(Exception):
    """Why the peer cannot run here (printed, and the bench goes on without it)."""


def install() -> str:
    """node, with the peer's packages installed as the lock file pins them (again when it changed)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise PeerUnavailable("node and npm are not installed")
    lock = hashlib.sha256((PEER_DIR / "package-lock.json").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text() != lock:
        try:
            subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=PEER_DIR,
                check=True,
                timeout=600,
                capture_output=True,
                text=True,
            )
        except subprocess.CalledProcessError as exc:
            raise PeerUnavailable(f"npm ci failed in {PEER_DIR}: {exc.stderr.strip()[-500:]}") from None
        except subprocess.TimeoutExpired:
            raise PeerUnavailable(f"npm ci in {PEER_DIR} took over 10 minutes") from None
        STAMP.write_text(lock)
    return node


def version() -> str:
    """The installed PostGraphile's version."""
    manifest = json.loads((PEER_DIR / "node_modules" / "postgraphile" / "package.json").read_text())
    return str(manifest["version"])


def libpq_environment(conninfo: str) -> dict[str, str]:
    """The connection as PG* variables, which node-postgres reads (a socket directory as PGHOST too)."""
    params = conninfo_to_dict(conninfo)
    names = {"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD", "dbname": "PGDATABASE"}
    return {variable: str(params[key]) for key, variable in names.items() if params.get(key) is not None}


@contextlib.contextmanager
def run_peer(node: str, app_conninfo: str, workers: int, pool_size: int = 10) -> Iterator[tuple[str, int]]:
    """PostGraphile on ``workers`` processes (Node's cluster module), as the app role; yields its
    base URL and the primary's pid, once every worker has built its schema."""
    port = free_port()
    environment = {
        **{key: value for key, value in os.environ.items() if not key.startswith("PG")},
        **libpq_environment(app_conninfo),
        "PEER_JWT_KEYS": BENCH_KEYS,
        "PEER_POOL_SIZE": str(pool_size),
        "NODE_ENV": "production",
    }
    with (
        tempfile.TemporaryFile(mode="w+") as errors,
        subprocess.Popen(
            [node, "server.js", str(port), str(workers)],
            cwd=PEER_DIR,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        ) as process,
    ):
        try:
            assert process.stdout is not None
            deadline = time.monotonic() + 120
            line = ""
            while line != "ready\n":
                remaining = deadline - time.monotonic()
                readable, _, _ = select.select([process.stdout], [], [], max(remaining, 0))
                line = process.stdout.readline() if readable else ""
                if not readable or (not line and process.poll() is not None):
                    errors.seek(0)
                    said = [text.strip() for text in errors if text.strip() and not text.lstrip().startswith("at ")]
                    raise PeerUnavailable(f"PostGraphile did not start: {' '.join(said)[:1000]}")
            yield f"http://127.0.0.1:{port}", process.pid
        finally:
            process.terminate()
            process.wait(timeout=30)


ACTIVE = '["active", "completed"]'
# Our full dashboard (bench.limits.QUERIES["full dashboard"]) in PostGraphile's schema: the same
# rows under the same conditions and order, aliased to our field names. What differs is in
# BENCHMARKS.md ("The peer").
DASHBOARD = f"""query Dashboard($tenant: UUID!, $user: UUID!, $now: Datetime!) {{
  me: userByTenantIdAndId(tenantId: $tenant, id: $user) {{
    enrolledCourses: enrollmentsByTenantIdAndUserIdList(
      filter: {{status: {{in: {ACTIVE}}}}}, orderBy: [ENROLLED_AT_DESC, ID_ASC]) {{
      progressPercent: progressPct lastAccessedAt
      course: courseByTenantIdAndCourseId {{
        id title slug status
        enrollmentCount: enrollmentsByTenantIdAndCourseId(filter: {{status: {{in: {ACTIVE}}}}}) {{ totalCount }}
        completedCount: enrollmentsByTenantIdAndCourseId(condition: {{status: "completed"}}) {{ totalCount }}
        instructor: userByTenantIdAndInstructorId {{ id fullName }}
        modules: modulesByTenantIdAndCourseIdList(orderBy: [POSITION_ASC, CREATED_AT_ASC]) {{
          id title position
          lessons: lessonsByTenantIdAndCourseIdAndModuleIdList(orderBy: [POSITION_ASC, CREATED_AT_ASC]) {{
            id title contentType contentRef durationMin position
            myProgress: lessonProgressesByTenantIdAndCourseIdAndLessonIdList(condition: {{userId: $user}}) {{ status progressPct }}
          }}
        }}
        nextLesson: lessonsByTenantIdAndCourseIdList(
          first: 1
          filter: {{lessonProgressesByTenantIdAndCourseIdAndLessonId: {{none: {{userId: {{equalTo: $user}}, status: {{equalTo: "completed"}}}}}}}}
          orderBy: [MODULE_BY_TENANT_ID_AND_COURSE_ID_AND_MODULE_ID__POSITION_ASC,
            MODULE_BY_TENANT_ID_AND_COURSE_ID_AND_MODULE_ID__CREATED_AT_ASC, POSITION_ASC, CREATED_AT_ASC]) {{
          id title module: moduleByTenantIdAndCourseIdAndModuleId {{ id title }}
        }}
      }}
    }}
    recentActivity: domainEventsByTenantIdAndUserIdList(first: 20, orderBy: [OCCURRED_AT_DESC, ID_ASC]) {{
      id eventType occurredAt courseId payload
    }}
    certificates: certificatesByTenantIdAndUserId(orderBy: ISSUED_AT_DESC) {{
      certificatesEarned: totalCount
      nodes {{ id issuedAt verificationCode course: courseByTenantIdAndCourseId {{ id title }} }}
    }}
  }}
  upcomingAssessments: allAssessmentsList(
    filter: {{
      or: [{{dueAt: {{isNull: true}}}}, {{dueAt: {{greaterThan: $now}}}}]
      courseByTenantIdAndCourseId: {{enrollmentsByTenantIdAndCourseId: {{some: {{userId: {{equalTo: $user}}, status: {{in: {ACTIVE}}}}}}}}}
      submissionsByTenantIdAndAssessmentId: {{none: {{userId: {{equalTo: $user}}, passed: {{equalTo: true}}}}}}
    }}
    orderBy: [DUE_AT_ASC, CREATED_AT_ASC]) {{
    id title dueAt maxScore questions
    course: courseByTenantIdAndCourseId {{ id title }}
    mySubmissions: submissionsByTenantIdAndAssessmentIdList(condition: {{userId: $user}}, orderBy: ATTEMPT_NUMBER_DESC) {{
      id score
    }}
  }}
}}"""

# Our catalogue page (bench.__main__.CATALOGUE): what a student lists, newest first.
CATALOGUE = """{
  courses: allCourses(first: 20, condition: {status: "published"}, orderBy: [CREATED_AT_DESC, ID_DESC]) {
    edges { node {
      id title
      instructor: userByTenantIdAndInstructorId { fullName }
      modules: modulesByTenantIdAndCourseIdList(orderBy: [POSITION_ASC, CREATED_AT_ASC]) { id }
    } }
  }
}"""

QUERIES = {"dashboard": DASHBOARD, "catalogue": CATALOGUE}


def variables_for(scenario: str, tenant: uuid.UUID, users: list[uuid.UUID]) -> Callable[[int], dict[str, Any]]:
    """Request n's variables: the same student as our server's request n (its token's user)."""
    if scenario != "dashboard":
        return lambda n: {}

    def dashboard(n: int) -> dict[str, Any]:
        return {"tenant": str(tenant), "user": str(users[n % len(users)]), "now": datetime.now(UTC).isoformat()}

    return dashboard
