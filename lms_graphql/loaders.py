"""Per-request dataloaders over the request's tenant-bound transaction.

Built for one request from its context, so their caches can never mix tenants or viewers.
Each batch is one statement, whatever the number of keys.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from lms_graphql.assessments.repository import AssessmentRepository
from lms_graphql.courses.repository import CourseRepository
from lms_graphql.enrollments.repository import EnrollmentRepository
from lms_graphql.paths.repository import PathRepository
from lms_graphql.storage.repository import FileRepository, MediaRepository
from lms_graphql.users.repository import UserRepository

if TYPE_CHECKING:
    from lms_graphql.context import Context

# A Row, or an object with a row's attributes (what the dashboard primes from joined rows).
Record = Any
Rows = list[Row[Any]]
Ids = Sequence[uuid.UUID]
OneLoader = DataLoader[uuid.UUID, Record | None]
RowLoader = DataLoader[uuid.UUID, Record]
ManyLoader = DataLoader[uuid.UUID, list[Record]]
# fetch(session, tenant_id, ids) -> rows
Fetch = Callable[[AsyncSession, uuid.UUID, Ids], Awaitable[Rows]]


def one_each(rows: Iterable[Row[Any]], keys: Ids, column: str) -> list[Row[Any] | None]:
    found = {getattr(row, column): row for row in rows}
    return [found.get(key) for key in keys]


def many_each(rows: Iterable[Row[Any]], keys: Ids, column: str) -> list[Rows]:
    groups: dict[uuid.UUID, Rows] = defaultdict(list)
    for row in rows:
        groups[getattr(row, column)].append(row)
    return [groups.get(key, []) for key in keys]


def _one(ctx: Context, fetch: Fetch, column: str = "id") -> OneLoader:
    async def load(keys: Ids) -> list[Row[Any] | None]:
        async with ctx.read() as session:
            rows = await fetch(session, ctx.tenant.id, list(keys))
        return one_each(rows, keys, column)

    return DataLoader(load_fn=load)


def _row(ctx: Context, fetch: Fetch) -> RowLoader:
    """Rows a foreign key points at: always there (same tenant), so a gap is a bug, raised."""

    async def load(keys: Ids) -> list[Row[Any] | BaseException]:
        async with ctx.read() as session:
            rows = await fetch(session, ctx.tenant.id, list(keys))
        found = {row.id: row for row in rows}
        return [found.get(key) or LookupError(f"row {key} is missing") for key in keys]

    return DataLoader(load_fn=load)


def _many(ctx: Context, fetch: Fetch, column: str) -> ManyLoader:
    async def load(keys: Ids) -> list[Rows]:
        async with ctx.read() as session:
            rows = await fetch(session, ctx.tenant.id, list(keys))
        return many_each(rows, keys, column)

    return DataLoader(load_fn=load)


def _values(ctx: Context, fetch: Callable[[AsyncSession, uuid.UUID, Ids], Awaitable[dict[uuid.UUID, Any]]]) -> Any:
    """A value per key (None where there is none), one statement per batch."""

    async def load(keys: Ids) -> list[Any]:
        async with ctx.read() as session:
            found = await fetch(session, ctx.tenant.id, list(keys))
        return [found.get(key) for key in keys]

    return DataLoader(load_fn=load)


def _viewer_id(ctx: Context) -> uuid.UUID:
    # Loaders of the viewer's own rows are only reached through resolvers that required one;
    # a missing viewer reads as nobody (no rows).
    return ctx.viewer.id if ctx.viewer is not None else uuid.UUID(int=0)


class Loaders:
    def __init__(self, ctx: Context) -> None:
        me = _viewer_id(ctx)
        self.user = _row(ctx, lambda s, t, ids: UserRepository(s, t).rows_by_ids(ids))
        self.course = _row(ctx, lambda s, t, ids: CourseRepository(s, t).by_ids(ids))
        self.module = _row(ctx, lambda s, t, ids: CourseRepository(s, t).modules_by_ids(ids))
        self.lesson = _row(ctx, lambda s, t, ids: CourseRepository(s, t).lessons_by_ids(ids))
        self.assessment = _row(ctx, lambda s, t, ids: AssessmentRepository(s, t).by_ids(ids))
        self.modules_of_course = _many(ctx, self._modules_of, "course_id")
        self.lessons_of_module = _many(ctx, lambda s, t, ids: CourseRepository(s, t).lessons_of(ids), "module_id")
        self.assessments_of_course = _many(
            ctx, lambda s, t, ids: AssessmentRepository(s, t).of_courses(ids), "course_id"
        )
        self.enrollment_stats = _many(ctx, lambda s, t, ids: EnrollmentRepository(s, t).stats(ids), "course_id")
        self.prerequisites = _many(ctx, lambda s, t, ids: PathRepository(s, t).required_by(ids), "course_id")
        # The viewer's own rows, keyed by lesson / course / assessment.
        self.my_progress = _one(ctx, lambda s, t, ids: EnrollmentRepository(s, t).progress_of(me, ids), "lesson_id")
        self.my_enrollment = _one(ctx, lambda s, t, ids: EnrollmentRepository(s, t).of_user_in(me, ids), "course_id")
        self.my_course_lock = _values(ctx, lambda s, t, ids: PathRepository(s, t).locks(ids, me))
        self.my_module_lock = _values(ctx, lambda s, t, ids: CourseRepository(s, t).module_locks(ids, me))
        self.my_lesson_lock = _values(ctx, lambda s, t, ids: CourseRepository(s, t).lesson_locks(ids, me))
        self.lesson_content = _one(ctx, lambda s, t, ids: FileRepository(s, t).contents_of_lessons(ids), "lesson_id")
        self.submission_files = _many(ctx, lambda s, t, ids: FileRepository(s, t).of_submissions(ids), "submission_id")
        self.media = _one(ctx, lambda s, t, ids: MediaRepository(s, t).by_ids(ids), "id")
        self.my_submissions = _many(
            ctx, lambda s, t, ids: AssessmentRepository(s, t).submissions_of(me, ids), "assessment_id"
        )

    async def _modules_of(self, session: AsyncSession, tenant_id: uuid.UUID, course_ids: Ids) -> Rows:
        """Courses' modules, each also put in ``module``: their lessons read the modules' rules
        (courses/types.py, lessons_for) without loading them again."""
        rows = await CourseRepository(session, tenant_id).modules_of(course_ids)
        for row in rows:
            self.module.prime(row.id, row)
        return rows
