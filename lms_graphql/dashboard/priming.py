"""The dashboard's joined rows turned into GraphQL objects, and put into the request's loaders
as if each had been loaded there (for the fields that still load, e.g. ``instructor``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING

from lms_graphql.courses.types import Course, Lesson, Module
from lms_graphql.dashboard.repository import EnrolledParts, Joined

if TYPE_CHECKING:
    from lms_graphql.dashboard.graphql import EnrolledCourseProgress
    from lms_graphql.loaders import Loaders


def prime_enrolled(
    loaders: Loaders, joined: Joined, parts: EnrolledParts, trees: dict[uuid.UUID, list[Module]]
) -> list[EnrolledCourseProgress]:
    from lms_graphql.dashboard.graphql import EnrolledCourseProgress

    entries = []
    part = joined.part
    for row in joined.rows:
        enrollment, course = part(row, "enrollment"), part(row, "course")
        assert enrollment is not None
        assert course is not None
        loaders.course.prime(course.id, course)
        loaders.my_enrollment.prime(course.id, enrollment)
        if parts.instructor:
            instructor = part(row, "instructor")
            assert instructor is not None
            loaders.user.prime(instructor.id, instructor)
        if parts.seats:
            seats = SimpleNamespace(course_id=course.id, enrolled=row.enrolled, completed=row.completed)
            loaders.enrollment_stats.prime(course.id, [seats])
        next_lesson = None
        if parts.next_lesson and (lesson := part(row, "next")) is not None:
            module = part(row, "next_module")
            assert module is not None
            loaders.module.prime(module.id, module)
            # An active or completed enrollment shows the course's content.
            next_lesson = Lesson.from_row(lesson, progress=part(row, "next_progress"), content_visible=True)
        entries.append(
            EnrolledCourseProgress(
                progress_percent=float(enrollment.progress_pct),
                percent=enrollment.progress_pct,
                last_accessed_at=enrollment.last_accessed_at,
                course=Course.from_row(course, modules=trees.get(course.id)),
                next_lesson=next_lesson,
            )
        )
    return entries


def course_trees(
    loaders: Loaders, course_ids: Sequence[uuid.UUID], joined: Joined, editable: set[uuid.UUID]
) -> dict[uuid.UUID, list[Module]]:
    """Per course, its modules with their lessons and the viewer's progress, built. Only for
    courses the viewer is enrolled in (active or completed), which shows their content; a
    locked lesson's only to the course's editors (``editable``)."""
    modules: dict[uuid.UUID, list[Module]] = {course_id: [] for course_id in course_ids}
    lessons: dict[uuid.UUID, list[Lesson]] = {}
    part = joined.part
    for row in joined.rows:
        module_id = row.module__id
        if module_id not in lessons:
            module = part(row, "module")
            loaders.module.prime(module_id, module)
            lessons[module_id] = []
            modules[module.course_id].append(Module.from_row(module, lessons=lessons[module_id]))
        lesson = part(row, "lesson")
        if lesson is not None:
            lock = lesson.lock_reason
            visible = lock is None or lesson.course_id in editable
            lessons[module_id].append(
                Lesson.from_row(lesson, progress=part(row, "progress"), content_visible=visible, lock=lock)
            )
    return modules
