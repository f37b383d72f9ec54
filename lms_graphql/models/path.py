from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, UniqueConstraint
from sqlalchemy.orm import Mapped

from lms_graphql.models.base import Base, TenantOwned, created_at_column


class CoursePrerequisite(TenantOwned, Base):
    """A course a learner must have completed before enrolling in another."""

    __tablename__ = "course_prerequisites"
    __table_args__ = (
        UniqueConstraint("tenant_id", "course_id", "required_course_id"),
        ForeignKeyConstraint(["tenant_id", "course_id"], ["courses.tenant_id", "courses.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(
            ["tenant_id", "required_course_id"], ["courses.tenant_id", "courses.id"], ondelete="CASCADE"
        ),
        CheckConstraint("course_id <> required_course_id", name="not_itself"),
    )

    course_id: Mapped[uuid.UUID]
    required_course_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = created_at_column()
