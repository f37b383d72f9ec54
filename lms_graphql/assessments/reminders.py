"""Deadline reminders (the seed's "automatic reminders for upcoming deadlines"): learners hear
24 hours before an assessment is due, once per learner, assessment and due date."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql.assessments.reminder_repository import ReminderRepository
from lms_graphql.assessments.repository import AssessmentRepository
from lms_graphql.events.publish import Notice, record_event

AHEAD = timedelta(hours=24)


async def send_due_reminders(session: AsyncSession, tenant_id: uuid.UUID, now: datetime) -> int:
    """Notifies whoever is due a reminder now (assessment.due_soon, one event per assessment);
    returns how many learners were reminded."""
    claimed = await ReminderRepository(session, tenant_id).claim_due(now, now + AHEAD)
    learners: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for row in claimed:
        learners[row.assessment_id].append(row.user_id)
    for assessment in await AssessmentRepository(session, tenant_id).by_ids(list(learners)):
        payload = {
            "assessmentId": str(assessment.id),
            "courseId": str(assessment.course_id),
            "title": assessment.title,
            "dueAt": assessment.due_at.isoformat(),
        }
        await record_event(
            session,
            tenant_id=tenant_id,
            event_type="assessment.due_soon",
            user_id=None,
            payload=payload,
            course_id=assessment.course_id,
            notice=Notice(
                title=f"{assessment.title} is due {assessment.due_at:%Y-%m-%d %H:%M} UTC",
                body="Less than 24 hours left to submit it.",
                recipients=tuple(learners[assessment.id]),
            ),
        )
    return len(claimed)
