"""Each model's Core table, typed as a Table (what the repositories' Core SQL is written against)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Table, and_

from lms_graphql import models

USERS: Table = models.User.__table__  # type: ignore[assignment]
COURSES: Table = models.Course.__table__  # type: ignore[assignment]
MODULES: Table = models.Module.__table__  # type: ignore[assignment]
LESSONS: Table = models.Lesson.__table__  # type: ignore[assignment]
ENROLLMENTS: Table = models.Enrollment.__table__  # type: ignore[assignment]
PROGRESS: Table = models.LessonProgress.__table__  # type: ignore[assignment]
ASSESSMENTS: Table = models.Assessment.__table__  # type: ignore[assignment]
SUBMISSIONS: Table = models.Submission.__table__  # type: ignore[assignment]
CERTIFICATES: Table = models.Certificate.__table__  # type: ignore[assignment]
EVENTS: Table = models.DomainEvent.__table__  # type: ignore[assignment]
NOTIFICATIONS: Table = models.Notification.__table__  # type: ignore[assignment]
IDEMPOTENCY_KEYS: Table = models.IdempotencyKey.__table__  # type: ignore[assignment]
AUDIT_LOG: Table = models.AuditEntry.__table__  # type: ignore[assignment]
PREREQUISITES: Table = models.CoursePrerequisite.__table__  # type: ignore[assignment]


def live(table: Table) -> ColumnElement[bool]:
    """A module's or lesson's row that was not archived (removed while it had learner progress)."""
    condition: ColumnElement[bool] = table.c.archived_at.is_(None)
    return condition


def same_lesson() -> ColumnElement[bool]:
    """Joins a progress row to its lesson."""
    condition: ColumnElement[bool] = and_(
        LESSONS.c.tenant_id == PROGRESS.c.tenant_id, LESSONS.c.id == PROGRESS.c.lesson_id
    )
    return condition


STORED_FILES: Table = models.StoredFile.__table__  # type: ignore[assignment]
LESSON_MEDIA: Table = models.LessonMedia.__table__  # type: ignore[assignment]
REMINDERS: Table = models.AssessmentReminder.__table__  # type: ignore[assignment]
DATA_EXPORTS: Table = models.DataExport.__table__  # type: ignore[assignment]
