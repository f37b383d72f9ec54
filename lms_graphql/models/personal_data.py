"""Where the platform holds personal data: every column of every tenant table, reviewed.

A column is either ``personal`` (with what erasure does to it) or ``other`` (holds nothing that
names a person once the person's user row is pseudonymised: ids, numbers, timestamps, course
content). ``subject`` names the columns that say whose a row is: a person's export holds the rows
whose subject is them (``through``: rows whose parent, in another table, is theirs).

tests/test_privacy.py compares this with the database's catalog: a new column, or a new tenant
table, fails the suite until it is classified here (and, if personal, erased by erasure.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

ERASED = "[erased]"
ERASED_NAME = "Erased user"


@dataclass(frozen=True)
class TableData:
    personal: dict[str, str]
    other: str  # space-separated column names
    subject: tuple[str, ...] = ()
    through: tuple[str, str] | None = None  # (column, parent table): the parent's subject decides
    mentions: tuple[str, ...] = ()  # JSON columns: a row naming the person's id is about them too
    withheld: frozenset[str] = field(default_factory=frozenset)  # never exported (secrets, caches)

    @property
    def columns(self) -> frozenset[str]:
        return frozenset(self.personal) | frozenset(self.other.split())


CATALOG: dict[str, TableData] = {
    "users": TableData(
        personal={
            "email": "replaced by erased-<id>@erased.invalid: the address can be registered again",
            "full_name": f"replaced by '{ERASED_NAME}'",
            "avatar_url": "removed",
            "password_hash": "removed: no sign-in is possible",
            "last_login_at": "removed",
        },
        other="tenant_id id role is_active token_version created_at updated_at erased_at",
        subject=("id",),
        withheld=frozenset({"password_hash"}),
    ),
    "submissions": TableData(
        personal={
            "answers": f"free-text answers (short_text, essay) replaced by '{ERASED}'; choices stay for statistics",
            "feedback": "removed",
        },
        other="tenant_id id assessment_id user_id attempt_number assessment_version score passed status is_late "
        "started_at submitted_at graded_at graded_by updated_at",
        subject=("user_id",),
    ),
    "submission_grades": TableData(
        personal={"feedback": "removed"},
        other="tenant_id id submission_id score graded_by graded_at",
        through=("submission_id", "submissions"),
    ),
    "notifications": TableData(
        personal={
            "title": f"the person's own notifications are deleted; another's mentioning them reads '{ERASED}'",
            "body": f"the person's own notifications are deleted; another's mentioning them reads '{ERASED}'",
            "payload": f"the person's own notifications are deleted; strings mentioning them read '{ERASED}'",
        },
        other="tenant_id id user_id event_id event_type created_at read_at",
        subject=("user_id",),
    ),
    "domain_events": TableData(
        personal={"payload": f"strings mentioning the person's email or name read '{ERASED}'"},
        other="tenant_id id event_type user_id course_id occurred_at version published_at",
        subject=("user_id",),
    ),
    "audit_log": TableData(
        personal={
            "details": f"in entries by or about the person, every string they or others sent reads '{ERASED}' "
            "(ids, outcome and time stay: who did what, when)"
        },
        other="tenant_id id actor_tenant_id actor_user_id action occurred_at",
        subject=("actor_user_id",),
        mentions=("details",),
    ),
    "idempotency_keys": TableData(
        personal={"response_body": "the person's rows are deleted (a cached response may name them)"},
        other="tenant_id id user_id key request_hash state response_status created_at",
        subject=("user_id",),
        withheld=frozenset({"request_hash", "response_body"}),
    ),
    "stored_files": TableData(
        personal={"object_key": "the person's submission attachments: rows and objects deleted"},
        other="tenant_id id purpose content_type declared_bytes size_bytes status lesson_id assessment_id "
        "submission_id uploaded_by upload_expires_at confirmed_at created_at",
        subject=("uploaded_by",),
    ),
    "data_exports": TableData(
        personal={"object_key": "the person's archives: rows and objects deleted"},
        other="tenant_id id user_id requested_by status size_bytes error created_at finished_at expires_at",
        subject=("user_id",),
    ),
    "enrollments": TableData(
        personal={},
        other="tenant_id id user_id course_id status progress_pct enrolled_at completed_at last_accessed_at "
        "dropped_at updated_at",
        subject=("user_id",),
    ),
    "lesson_progress": TableData(
        personal={},
        other="tenant_id id user_id course_id lesson_id status progress_pct started_at completed_at created_at "
        "updated_at",
        subject=("user_id",),
    ),
    "certificates": TableData(
        personal={},  # verifiable still: the code stays, the name it shows is the erased one
        other="tenant_id id user_id course_id verification_code issued_at",
        subject=("user_id",),
    ),
    "assessment_reminders": TableData(
        personal={}, other="tenant_id id assessment_id user_id due_at created_at", subject=("user_id",)
    ),
    "courses": TableData(
        personal={},
        other="tenant_id id instructor_id title slug description status max_enrollment settings published_at "
        "created_at updated_at",
        subject=("instructor_id",),
    ),
    "modules": TableData(
        personal={},
        other="tenant_id id course_id title position archived_at unlock_at requires_previous created_at updated_at",
    ),
    "lessons": TableData(
        personal={},
        other="tenant_id id course_id module_id title content_type content_ref duration_min position archived_at "
        "requires_previous created_at updated_at",
    ),
    "assessments": TableData(
        personal={},
        other="tenant_id id course_id title assessment_type max_score passing_score time_limit_min max_attempts "
        "due_at accepts_late questions version created_at updated_at",
    ),
    "assessment_versions": TableData(
        personal={}, other="tenant_id id assessment_id version questions max_score passing_score created_at"
    ),
    "course_prerequisites": TableData(personal={}, other="tenant_id id course_id required_course_id created_at"),
    "lesson_media": TableData(
        personal={},
        other="tenant_id id lesson_id status attempts error duration_seconds width height renditions playlist_key "
        "thumbnail_key created_at updated_at",
    ),
    "trusted_documents": TableData(
        personal={},
        other="tenant_id id document_id body operation_names operation_kinds cost schema_hash source created_at",
    ),
}


def personal_columns() -> list[str]:
    """``table.column`` of every column holding personal data."""
    return sorted(f"{table}.{column}" for table, data in CATALOG.items() for column in data.personal)
