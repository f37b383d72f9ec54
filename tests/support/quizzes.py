"""Quizzes: questions of every type, and assessments built over GraphQL."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from lms_graphql.kit.db import Database
from tests.support.builders import build_course
from tests.support.http import gql, login
from tests.support.people import Person, PersonFactory, TenantFactory

QUESTIONS: list[dict[str, Any]] = [
    {
        "id": "capital",
        "type": "single_choice",
        "prompt": "Capital of France?",
        "points": 2,
        "options": [{"id": "a", "text": "Paris"}, {"id": "b", "text": "Lyon"}],
        "answer": "a",
        "explanation": "Paris since 987",
    },
    {
        "id": "primes",
        "type": "multiple_choice",
        "prompt": "Primes?",
        "points": 2,
        "options": [{"id": "2", "text": "2"}, {"id": "4", "text": "4"}, {"id": "5", "text": "5"}],
        "answers": ["2", "5"],
    },
    {"id": "rls", "type": "true_false", "prompt": "RLS can be forced?", "points": 2, "answer": True},
    {"id": "city", "type": "short_text", "prompt": "Largest city?", "points": 2, "accepted": ["New York", "NYC"]},
    {"id": "code", "type": "short_text", "prompt": "Element?", "points": 2, "accepted": ["Fe"], "caseSensitive": True},
]


ALL_RIGHT = {"capital": "a", "primes": ["5", "2"], "rls": True, "city": "  new   york. ", "code": "Fe"}


CREATE = """
mutation($input: CreateAssessmentInput!) { createAssessment(input: $input) {
  id assessmentType maxScore passingScore maxAttempts timeLimitMin questions } }
"""


SUBMIT = """
mutation($a: ID!, $answers: JSON!) { submitAssessment(assessmentId: $a, answers: $answers) {
  id attemptNumber status score passed late answers } }
"""


GRADE = """
mutation($s: ID!, $score: Float!, $f: String) { gradeSubmission(submissionId: $s, score: $score, feedback: $f) {
  status score passed feedback } }
"""


async def classroom(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory, db: Database, lessons: int = 1
) -> Classroom:
    tenant = await make_tenant(max_users=100)
    teacher = await make_user(tenant, "instructor")
    course = await build_course(db, tenant, teacher.id, modules=1, lessons=lessons)
    return Classroom(teacher, await login(client, teacher), course.id, course.lesson_ids)


async def learner(client: httpx.AsyncClient, make_user: PersonFactory, room: Classroom) -> tuple[Person, str]:
    person = await make_user(room.teacher.tenant)
    token = await login(client, person)
    await gql(client, ENROLL, {"c": str(room.course_id)}, token=token)
    return person, token


ENROLL = "mutation($c: ID!) { enrollInCourse(courseId: $c) { id } }"


class Classroom:
    def __init__(self, teacher: Person, teacher_token: str, course_id: uuid.UUID, lesson_ids: list[uuid.UUID]) -> None:
        self.teacher = teacher
        self.teacher_token = teacher_token
        self.course_id = course_id
        self.lesson_ids = lesson_ids

    async def assessment(self, client: httpx.AsyncClient, **fields: Any) -> str:
        spec = {"courseId": str(self.course_id), "title": "Quiz", "assessmentType": "QUIZ", "questions": QUESTIONS}
        reply = await gql(client, CREATE, {"input": {**spec, **fields}}, token=self.teacher_token)
        return str(reply.data["createAssessment"]["id"])
