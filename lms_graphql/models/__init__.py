"""ORM models; import as a module: ``from lms_graphql import models`` → ``models.Course``."""

from lms_graphql.models.assessment import (
    Assessment,
    AssessmentReminder,
    AssessmentVersion,
    Submission,
    SubmissionGrade,
)
from lms_graphql.models.audit import AuditEntry
from lms_graphql.models.base import Base
from lms_graphql.models.certificate import Certificate
from lms_graphql.models.content import LessonMedia, StoredFile
from lms_graphql.models.course import Course, Lesson, Module
from lms_graphql.models.document import PlatformDocument, TrustedDocument
from lms_graphql.models.enrollment import Enrollment, LessonProgress
from lms_graphql.models.event import DomainEvent
from lms_graphql.models.idempotency import IdempotencyKey
from lms_graphql.models.notification import Notification
from lms_graphql.models.path import CoursePrerequisite
from lms_graphql.models.privacy import DataExport
from lms_graphql.models.tenant import Tenant
from lms_graphql.models.user import User

TENANT_OWNED_TABLES = tuple(table.name for table in Base.metadata.sorted_tables if "tenant_id" in table.columns)

__all__ = [
    "TENANT_OWNED_TABLES",
    "Assessment",
    "AssessmentReminder",
    "AssessmentVersion",
    "AuditEntry",
    "Base",
    "Certificate",
    "Course",
    "CoursePrerequisite",
    "DataExport",
    "DomainEvent",
    "Enrollment",
    "IdempotencyKey",
    "Lesson",
    "LessonMedia",
    "LessonProgress",
    "Module",
    "Notification",
    "PlatformDocument",
    "StoredFile",
    "Submission",
    "SubmissionGrade",
    "Tenant",
    "TrustedDocument",
    "User",
]
