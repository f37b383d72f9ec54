"""The demo data set: several tenants with instructors, students, courses, progress."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql import models
from lms_graphql.assessments.service import NewAssessment, create_assessment, grade, submit
from lms_graphql.auth.viewer import Viewer
from lms_graphql.config import DEFAULT_APP_ROLE
from lms_graphql.courses.service import create_course, publish_course
from lms_graphql.enrollments.service import enroll, update_progress
from lms_graphql.kit.db import Database
from lms_graphql.kit.homes import MAIN_CLUSTER
from lms_graphql.placement.service import create_placed_tenant
from lms_graphql.tenancy.repository import TenantRepository
from lms_graphql.tenancy.service import create_tenant, find_tenant
from lms_graphql.tenancy.tenant import TenantConfig
from lms_graphql.users.service import create_user

DEMO_PASSWORD = "demo-password"  # noqa: S105 - printed to the user: demo data only


@dataclass(frozen=True)
class DemoTenant:
    slug: str
    name: str
    plan: str
    domain: str
    instructors: tuple[str, ...]
    students: tuple[str, ...]
    courses: tuple[str, ...]
    placement: str = "pool"  # one demo tenant in each (kit/homes.py)


DEMO_TENANTS = (
    DemoTenant(
        "mit",
        "Massachusetts Institute of Technology",
        "enterprise",
        "mit.example",
        ("Ada Lovelace", "Alan Turing"),
        ("Grace Hopper", "Katherine Johnson", "Edsger Dijkstra", "Barbara Liskov"),
        ("Introduction to Algorithms", "Distributed Systems", "Compilers (draft)"),
        "silo",
    ),
    DemoTenant(
        "stanford",
        "Stanford University",
        "pro",
        "stanford.example",
        ("Donald Knuth",),
        ("Margaret Hamilton", "Ken Thompson", "Frances Allen"),
        ("Databases", "Machine Learning"),
        "bridge",
    ),
    DemoTenant(
        "acme",
        "Acme Corporation",
        "free",
        "acme.example",
        ("Wile Coyote",),
        ("Road Runner", "Bugs Bunny"),
        ("Workplace Safety",),
    ),
)
PLATFORM = DemoTenant("platform", "LMS Platform Operations", "enterprise", "platform.example", (), (), ())

MODULES = ("Foundations", "Practice", "Mastery")
LESSONS = (("Overview", "video", 12), ("Reading", "text", 20), ("Check yourself", "quiz", 10))


def _email(name: str, domain: str) -> str:
    return f"{name.split()[0].lower()}@{domain}"


async def load_demo(db: Database, *, only_if_empty: bool, port: int = 8000) -> None:
    """The demo tenants, once; prints the logins (with the address ``serve`` answers on)."""
    async with db.platform_transaction() as session:
        existing = await find_tenant(session, DEMO_TENANTS[0].slug)
        others = await TenantRepository(session).count() > 0
    if existing is None and only_if_empty and others:
        return  # a database with real tenants gets no demo data
    if existing is None:
        await _create_platform_operator(db)
        for spec in DEMO_TENANTS:
            await _create_tenant(db, spec)
        print("Demo data loaded.")
    else:
        print("Demo data is already loaded.")
    _print_logins(port)


async def _create_platform_operator(db: Database) -> None:
    async with db.platform_transaction() as session:
        tenant = await create_tenant(session, slug=PLATFORM.slug, name=PLATFORM.name, plan=PLATFORM.plan)
    async with db.tenant_transaction(tenant.id) as session:
        await create_user(
            session,
            tenant,
            email="root@platform.example",
            full_name="Platform Operator",
            role="super_admin",
            password=DEMO_PASSWORD,
        )


async def _create_tenant(db: Database, spec: DemoTenant) -> None:
    # A server holding the app login only cannot make schemas or databases: all in the pool then.
    placement = spec.placement if db.clusters[MAIN_CLUSTER].owner is not None else "pool"
    tenant = await create_placed_tenant(
        db,
        slug=spec.slug,
        name=spec.name,
        plan=spec.plan,
        placement=placement,
        max_users=1000,
        app_role=db.clusters[MAIN_CLUSTER].app.username or DEFAULT_APP_ROLE,
    )
    async with db.tenant_transaction(tenant.id) as session:
        await create_user(
            session,
            tenant,
            email=f"admin@{spec.domain}",
            full_name=f"{spec.slug.upper()} Admin",
            role="admin",
            password=DEMO_PASSWORD,
        )
        instructors = [await _user(session, tenant, name, spec.domain, "instructor") for name in spec.instructors]
        students = [await _user(session, tenant, name, spec.domain, "student") for name in spec.students]
        now = datetime.now(UTC)
        for index, title in enumerate(spec.courses):
            teacher = instructors[index % len(instructors)]
            course = await create_course(
                session,
                tenant,
                Viewer(user=teacher, home_tenant_id=tenant.id),
                title=title,
                slug=None,
                description=f"{title}: a demo course of {spec.name}.",
                max_enrollment=200,
                instructor_id=None,
            )
            lessons = await _add_content(session, course)
            teaching = Viewer(user=teacher, home_tenant_id=tenant.id)
            quiz, essay = await _add_assessments(session, tenant, teaching, course.id, now)
            if title.endswith("(draft)"):
                continue
            await publish_course(session, tenant, teaching, course.id)
            # Through the services, so enrollments, progress, grades, certificates and their
            # events and notifications are the real thing.
            for rank, student in enumerate(students[: 2 + index]):
                learner = Viewer(user=student, home_tenant_id=tenant.id)
                await enroll(session, tenant, learner, course.id)
                done = len(lessons) if rank == 0 and index == 0 else max(0, len(lessons) - 3 * rank - 2)
                for lesson in lessons[:done]:
                    await update_progress(session, tenant, learner, lesson.id, 100)
                if rank == 0:
                    # The first student passes the quiz and gets the essay graded: with every
                    # lesson done in the first course, that earns a certificate.
                    await submit(session, tenant, learner, quiz.id, {"q1": "a", "q2": False})
                    handed_in = await submit(session, tenant, learner, essay.id, {"essay": "What I learned..."})
                    if index == 0:
                        await grade(session, tenant, teaching, handed_in.id, score=85, feedback="Well argued.")
                elif rank == 1:
                    await submit(session, tenant, learner, quiz.id, {"q1": "b", "q2": True})  # failed
                    await submit(session, tenant, learner, essay.id, {"essay": "Draft thoughts"})  # to grade


async def _user(session: AsyncSession, tenant: TenantConfig, name: str, domain: str, role: str) -> models.User:
    return await create_user(
        session, tenant, email=_email(name, domain), full_name=name, role=role, password=DEMO_PASSWORD
    )


async def _add_content(session: AsyncSession, course: models.Course) -> list[models.Lesson]:
    lessons: list[models.Lesson] = []
    for m_pos, module_title in enumerate(MODULES):
        module = models.Module(
            id=uuid.uuid4(),
            tenant_id=course.tenant_id,
            course_id=course.id,
            title=module_title,
            position=m_pos,
        )
        session.add(module)
        await session.flush()
        for l_pos, (lesson_title, content_type, minutes) in enumerate(LESSONS):
            lesson = models.Lesson(
                id=uuid.uuid4(),
                tenant_id=course.tenant_id,
                course_id=course.id,
                module_id=module.id,
                title=f"{module_title}: {lesson_title}",
                content_type=content_type,
                content_ref=f"https://content.example/{course.slug}/{m_pos}-{l_pos}",
                duration_min=minutes,
                position=l_pos,
            )
            session.add(lesson)
            lessons.append(lesson)
    return lessons


async def _add_assessments(
    session: AsyncSession, tenant: TenantConfig, teacher: Viewer, course_id: uuid.UUID, now: datetime
) -> tuple[models.Assessment, models.Assessment]:
    quiz = await create_assessment(
        session,
        tenant,
        teacher,
        NewAssessment(
            course_id=course_id,
            title="Checkpoint quiz",
            assessment_type="quiz",
            max_score=10,
            passing_score=6,
            time_limit_min=None,
            max_attempts=3,
            due_at=now + timedelta(days=14),
            accepts_late=True,
            questions=[
                {
                    "id": "q1",
                    "type": "single_choice",
                    "prompt": "Which of these is a tenant-isolation mechanism of PostgreSQL?",
                    "points": 5,
                    "options": [{"id": "a", "text": "Row-level security"}, {"id": "b", "text": "VACUUM"}],
                    "answer": "a",
                },
                {
                    "id": "q2",
                    "type": "true_false",
                    "prompt": "A composite foreign key can reference another tenant's row.",
                    "points": 5,
                    "answer": False,
                },
            ],
        ),
    )
    essay = await create_assessment(
        session,
        tenant,
        teacher,
        NewAssessment(
            course_id=course_id,
            title="Final essay",
            assessment_type="assignment",
            max_score=100,
            passing_score=60,
            time_limit_min=None,
            max_attempts=1,
            due_at=now + timedelta(days=45),
            accepts_late=True,
            questions=[{"id": "essay", "type": "essay", "prompt": "Reflect on the course.", "points": 100}],
        ),
    )
    return quiz, essay


def _print_logins(port: int) -> None:
    print(f"Every demo user's password is {DEMO_PASSWORD!r}. Send the tenant as a subdomain")
    print(f"(http://{DEMO_TENANTS[0].slug}.localhost:{port}/graphql) or as the X-Tenant-ID header. Logins:")
    print(f"  platform  root@{PLATFORM.domain} (super_admin)")
    for spec in DEMO_TENANTS:
        people = [f"admin@{spec.domain} (admin)"]
        people += [f"{_email(n, spec.domain)} (instructor)" for n in spec.instructors]
        people += [f"{_email(n, spec.domain)} (student)" for n in spec.students]
        print(f"  {spec.slug:<9} " + ", ".join(people) + f"; its data in the {spec.placement}")
