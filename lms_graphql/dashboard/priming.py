"""The dashboard's joined rows, put into the request's loaders as if each had been loaded."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row

from lms_graphql.courses.types import Course, Lesson
from lms_graphql.dashboard.repository import EnrolledParts, part

if TYPE_CHECKING:
    from lms_graphql.dashboard.graphql import EnrolledCourseProgress
    from lms_graphql.loaders import Loaders


def prime_enrolled(loaders: Loaders, rows: Sequence[Row[Any]], parts: EnrolledParts) -> list[EnrolledCourseProgress]:
    from lms_graphql.dashboard.graphql import EnrolledCourseProgress

    entries = []
    for row in rows:
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
                last_accessed_at=enrollment.last_accessed_at,
                course=Course.from_row(course),
                next_lesson=next_lesson,
            )
        )
    return entries


def prime_course_trees(loaders: Loaders, course_ids: Sequence[uuid.UUID], rows: Sequence[Row[Any]]) -> None:
    """Modules per course, lessons per module and the viewer's progress per lesson."""
    modules: dict[uuid.UUID, list[Any]] = {course_id: [] for course_id in course_ids}
    lessons: dict[uuid.UUID, list[Any]] = {}
    progress: dict[uuid.UUID, Any] = {}
    for row in rows:
        module_id = row.module__id
        if module_id not in lessons:
            module = part(row, "module")
            assert module is not None
            modules[module.course_id].append(module)
            loaders.module.prime(module_id, module)
            lessons[module_id] = []
        lesson = part(row, "lesson")
        if lesson is not None:
            lessons[module_id].append(lesson)
            progress[lesson.id] = part(row, "progress")
    loaders.modules_of_course.prime_many(modules)
    loaders.lessons_of_module.prime_many(lessons)
    loaders.my_progress.prime_many(progress)
