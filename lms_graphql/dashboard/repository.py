"""SQL for the student dashboard: one statement per list, each carrying what its subtree shows.

Joined tables come back under ``<part>__<column>`` labels; ``part()`` splits a row into
objects with the table's own column names, the shape the per-request loaders cache.
"""

from __future__ import annotations

import functools
import uuid
from collections import namedtuple
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Result,
    Row,
    Select,
    Uuid,
    and_,
    bindparam,
    case,
    exists,
    func,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.sql.selectable import FromClause

from lms_graphql.enrollments.repository import ACTIVE_STATUSES
from lms_graphql.kit.repository import TenantScopedRepository
from lms_graphql.models.tables import (
    ASSESSMENTS,
    CERTIFICATES,
    COURSES,
    ENROLLMENTS,
    EVENTS,
    LESSONS,
    MODULES,
    PROGRESS,
    SUBMISSIONS,
    USERS,
    live,
)
from lms_graphql.users.repository import PUBLIC_COLUMNS

RECENT_ACTIVITY_LIMIT = 20
# What the GraphQL types read from these rows (their from_row): a dashboard brings hundreds of
# lessons, and every column decoded costs.
TREE_COLUMNS = {
    "module": ("id", "course_id", "title", "position", "unlock_at", "requires_previous"),
    "lesson": (
        "id",
        "course_id",
        "module_id",
        "title",
        "content_type",
        "content_ref",
        "duration_min",
        "position",
        "requires_previous",
    ),
    "progress": ("id", "user_id", "lesson_id", "status", "progress_pct", "started_at", "completed_at"),
}


def labelled(table: FromClause, name: str, only: Sequence[str] | None = None) -> list[ColumnElement[Any]]:
    return [column.label(f"{name}__{column.name}") for column in table.c if only is None or column.name in only]


# (namedtuple maker, getter of its columns from a row, index of ``id`` among them)
Maker = tuple[Callable[[Iterable[Any]], Any], Callable[[Any], Any], int]


@functools.cache
def record_makers(keys: tuple[str, ...]) -> dict[str, Maker]:
    """A Maker per ``name__`` label group of a result's keys, built once per statement shape."""
    groups: dict[str, list[tuple[str, int]]] = {}
    for index, key in enumerate(keys):
        name, separator, column = key.partition("__")
        if separator:
            groups.setdefault(name, []).append((column, index))
    makers: dict[str, Maker] = {}
    for name, columns in groups.items():
        names = [column for column, _ in columns]
        record = namedtuple(name, names)  # type: ignore[misc]  # fields known at run time
        makers[name] = (record._make, itemgetter(*[index for _, index in columns]), names.index("id"))
    return makers


class Joined:
    """The rows of one joined statement, and the objects under each ``name__`` label in them."""

    def __init__(self, result: Result[Any]) -> None:
        self._records = record_makers(tuple(result.keys()))
        self.rows: list[Row[Any]] = list(result.all())

    def part(self, row: Row[Any], name: str) -> Any:
        """Row-shaped (attributes named as the table's columns); None where an outer join found nothing."""
        make, pick, id_at = self._records[name]
        values = pick(row)
        return make(values) if values[id_at] is not None else None


def same_tenant(left: FromClause, right: FromClause, *on: ColumnElement[bool]) -> ColumnElement[bool]:
    return and_(left.c.tenant_id == right.c.tenant_id, *on)


@dataclass(frozen=True)
class EnrolledParts:
    """What to join to each enrollment and its course (what the query selects below them)."""

    instructor: bool = False
    seats: bool = False
    next_lesson: bool = False


# The statements are built once (bound parameters): building them per request showed as 10 %
# of a dashboard's CPU, most of it SQLAlchemy copying the columns of aliases and labels.
TENANT: BindParameter[uuid.UUID] = bindparam("tenant_id", type_=Uuid)
USER: BindParameter[uuid.UUID] = bindparam("user_id", type_=Uuid)


@functools.cache
def enrolled_statement(parts: EnrolledParts) -> Select[Any]:
    joined: FromClause = ENROLLMENTS.join(
        COURSES, same_tenant(COURSES, ENROLLMENTS, COURSES.c.id == ENROLLMENTS.c.course_id)
    )
    columns = [*labelled(ENROLLMENTS, "enrollment"), *labelled(COURSES, "course")]
    if parts.instructor:
        joined = joined.join(USERS, same_tenant(USERS, COURSES, USERS.c.id == COURSES.c.instructor_id))
        columns += labelled(USERS, "instructor", PUBLIC_COLUMNS)
    if parts.seats:
        seats = seats_of_course().lateral("seats")
        joined = joined.join(seats, true())
        columns += [seats.c.enrolled, seats.c.completed]
    if parts.next_lesson:
        upcoming = next_lesson_of_course().lateral("next_lesson")
        joined = joined.outerjoin(upcoming, true())
        columns += list(upcoming.c)
    return (
        select(*columns)
        .select_from(joined)
        .where(
            ENROLLMENTS.c.tenant_id == TENANT, ENROLLMENTS.c.user_id == USER, ENROLLMENTS.c.status.in_(ACTIVE_STATUSES)
        )
        .order_by(ENROLLMENTS.c.enrolled_at.desc(), ENROLLMENTS.c.id)
    )


def seats_of_course() -> Select[int, int]:
    seat = ENROLLMENTS.alias("seat")
    return select(
        func.count().label("enrolled"), func.count().filter(seat.c.status == "completed").label("completed")
    ).where(
        seat.c.tenant_id == COURSES.c.tenant_id,
        seat.c.course_id == COURSES.c.id,
        seat.c.status.in_(ACTIVE_STATUSES),
    )


# A course's lessons in reading order: module then lesson position (ids break ties).
LESSON_ORDER = (
    MODULES.c.position,
    MODULES.c.created_at,
    MODULES.c.id,
    LESSONS.c.position,
    LESSONS.c.created_at,
    LESSONS.c.id,
)


def next_lesson_of_course() -> Select[Any]:
    done = PROGRESS.alias("done")
    return (
        select(*labelled(LESSONS, "next"), *labelled(MODULES, "next_module"), *labelled(done, "next_progress"))
        .select_from(
            LESSONS.join(MODULES, same_tenant(MODULES, LESSONS, MODULES.c.id == LESSONS.c.module_id)).outerjoin(
                done, same_tenant(done, LESSONS, done.c.lesson_id == LESSONS.c.id, done.c.user_id == USER)
            )
        )
        .where(
            LESSONS.c.tenant_id == COURSES.c.tenant_id,
            LESSONS.c.course_id == COURSES.c.id,
            live(LESSONS),
            or_(done.c.status.is_(None), done.c.status != "completed"),
            # Skipping what is locked (lesson_lock(), migration 0014), asked only where a rule is.
            or_(
                not_(or_(LESSONS.c.requires_previous, MODULES.c.requires_previous, MODULES.c.unlock_at.isnot(None))),
                func.lesson_lock(LESSONS.c.tenant_id, LESSONS.c.id, USER).is_(None),
            ),
        )
        .order_by(*LESSON_ORDER)
        .limit(1)
    )


COURSE_TREES = (
    select(
        *labelled(MODULES, "module", TREE_COLUMNS["module"]),
        *labelled(LESSONS, "lesson", TREE_COLUMNS["lesson"]),
        # Why the viewer may not open it yet (lesson_lock(), migration 0014), asked only where a rule is.
        case(
            (
                or_(LESSONS.c.requires_previous, MODULES.c.requires_previous, MODULES.c.unlock_at.isnot(None)),
                func.lesson_lock(LESSONS.c.tenant_id, LESSONS.c.id, USER),
            )
        ).label("lesson__lock_reason"),
        *labelled(PROGRESS, "progress", TREE_COLUMNS["progress"]),
    )
    .select_from(
        MODULES.outerjoin(
            LESSONS, same_tenant(LESSONS, MODULES, LESSONS.c.module_id == MODULES.c.id, live(LESSONS))
        ).outerjoin(
            PROGRESS,
            same_tenant(PROGRESS, LESSONS, PROGRESS.c.lesson_id == LESSONS.c.id, PROGRESS.c.user_id == USER),
        )
    )
    .where(
        MODULES.c.tenant_id == TENANT,
        MODULES.c.course_id.in_(bindparam("course_ids", expanding=True)),
        live(MODULES),
    )
    .order_by(MODULES.c.course_id, *LESSON_ORDER)
)

UPCOMING_ASSESSMENTS = (
    select(*labelled(ASSESSMENTS, "assessment"), *labelled(COURSES, "course"))
    .select_from(
        ASSESSMENTS.join(COURSES, same_tenant(COURSES, ASSESSMENTS, COURSES.c.id == ASSESSMENTS.c.course_id)).join(
            ENROLLMENTS, same_tenant(ENROLLMENTS, ASSESSMENTS, ENROLLMENTS.c.course_id == ASSESSMENTS.c.course_id)
        )
    )
    .where(
        ASSESSMENTS.c.tenant_id == TENANT,
        ENROLLMENTS.c.user_id == USER,
        ENROLLMENTS.c.status.in_(ACTIVE_STATUSES),
        ~exists().where(
            SUBMISSIONS.c.tenant_id == ASSESSMENTS.c.tenant_id,
            SUBMISSIONS.c.assessment_id == ASSESSMENTS.c.id,
            SUBMISSIONS.c.user_id == USER,
            SUBMISSIONS.c.passed.is_(True),
        ),
        or_(ASSESSMENTS.c.due_at.is_(None), ASSESSMENTS.c.due_at > bindparam("now")),
    )
    .order_by(ASSESSMENTS.c.due_at.asc().nulls_last(), ASSESSMENTS.c.created_at, ASSESSMENTS.c.id)
)

CERTIFICATES_OF_USER = (
    select(*labelled(CERTIFICATES, "certificate"), *labelled(COURSES, "course"))
    .select_from(
        CERTIFICATES.join(COURSES, same_tenant(COURSES, CERTIFICATES, COURSES.c.id == CERTIFICATES.c.course_id))
    )
    .where(CERTIFICATES.c.tenant_id == TENANT, CERTIFICATES.c.user_id == USER)
    .order_by(CERTIFICATES.c.issued_at.desc(), CERTIFICATES.c.id)
)

RECENT_ACTIVITY = (
    select(EVENTS.c.id, EVENTS.c.event_type, EVENTS.c.occurred_at, EVENTS.c.course_id, EVENTS.c.payload)
    .where(EVENTS.c.tenant_id == TENANT, EVENTS.c.user_id == USER)
    .order_by(EVENTS.c.occurred_at.desc(), EVENTS.c.id)
    .limit(bindparam("limit"))
)


class DashboardRepository(TenantScopedRepository):
    async def _joined(self, statement: Select[Any], user_id: uuid.UUID, **params: Any) -> Joined:
        return Joined(
            await self.session.execute(statement, {"tenant_id": self.tenant_id, "user_id": user_id, **params})
        )

    async def enrolled(self, user_id: uuid.UUID, parts: EnrolledParts) -> Joined:
        """The user's active and completed ``enrollment``s, newest first, each with its ``course``
        and the parts asked for: ``instructor``, ``enrolled`` / ``completed`` seats, and
        ``next`` / ``next_module`` / ``next_progress`` (the first lesson not completed, in module
        and lesson order)."""
        return await self._joined(enrolled_statement(parts), user_id)

    async def course_trees(self, user_id: uuid.UUID, course_ids: Sequence[uuid.UUID]) -> Joined:
        """The courses' modules in order, each with its lessons in order and the user's progress on
        them (``module``, ``lesson``, ``progress``): one row per lesson, or per empty module."""
        return await self._joined(COURSE_TREES, user_id, course_ids=list(course_ids))

    async def upcoming_assessments(self, user_id: uuid.UUID, now: datetime) -> Joined:
        """Assessments of the user's courses not yet passed, due later or without a due date,
        each with its ``course``."""
        return await self._joined(UPCOMING_ASSESSMENTS, user_id, now=now)

    async def certificates(self, user_id: uuid.UUID) -> Joined:
        """The user's certificates, newest first, each with its ``course``."""
        return await self._joined(CERTIFICATES_OF_USER, user_id)

    async def recent_activity(self, user_id: uuid.UUID, limit: int = RECENT_ACTIVITY_LIMIT) -> list[Row[Any]]:
        result = await self.session.execute(
            RECENT_ACTIVITY, {"tenant_id": self.tenant_id, "user_id": user_id, "limit": limit}
        )
        rows: list[Any] = list(result.all())
        return rows
