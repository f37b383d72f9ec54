"""The question model: validation naming the question, key hiding, grading each type."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from lms_graphql.assessments.questions import grade, validate_answers, validate_questions, without_answer_keys
from lms_graphql.errors import LmsError
from tests.support.quizzes import ALL_RIGHT, QUESTIONS


@pytest.mark.parametrize(
    ("question_id", "right", "wrong"),
    [
        ("capital", "a", "b"),
        ("primes", ["2", "5"], ["2"]),
        ("rls", True, False),
        ("city", "nyc!", "Boston"),
        ("code", "Fe", "fe"),
    ],
)
def test_each_type_is_graded_right_and_wrong(question_id: str, right: Any, wrong: Any) -> None:
    full = Decimal(10)
    assert grade(QUESTIONS, {**ALL_RIGHT, question_id: right}, full) == Decimal("10.00")
    assert grade(QUESTIONS, {**ALL_RIGHT, question_id: wrong}, full) == Decimal("8.00")
    blank = {key: value for key, value in ALL_RIGHT.items() if key != question_id}
    assert grade(QUESTIONS, blank, full) == Decimal("8.00")


def test_points_are_scaled_to_the_maximum() -> None:
    assert grade(QUESTIONS, {"capital": "a"}, Decimal(100)) == Decimal("20.00")
    assert grade(QUESTIONS, {"capital": "a"}, Decimal(3)) == Decimal("0.60")
    assert grade([], {}, Decimal(10)) == Decimal(0)


def test_learners_see_no_keys() -> None:
    public = without_answer_keys(QUESTIONS)
    for question in public:
        assert not {"answer", "answers", "accepted", "caseSensitive", "explanation"} & set(question)
    assert public[0]["options"] == QUESTIONS[0]["options"]


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ({"id": "q", "type": "poll", "prompt": "?", "points": 1}, "question 'q': type must be one of"),
        ({"id": "q", "type": "true_false", "prompt": "?", "points": 1}, "question 'q': answer must be true or false"),
        ({"id": "q", "type": "true_false", "prompt": "?", "points": 0, "answer": True}, "points must be"),
        ({"id": "q", "type": "true_false", "prompt": "", "points": 1, "answer": True}, "prompt must be"),
        ({"id": "q", "type": "essay", "prompt": "?", "points": 1, "answer": "x"}, "unknown fields ['answer']"),
        (
            {
                "id": "q",
                "type": "single_choice",
                "prompt": "?",
                "points": 1,
                "options": [{"id": "a", "text": "A"}],
                "answer": "a",
            },
            "options must be a list of 2",
        ),
        (
            {
                "id": "q",
                "type": "single_choice",
                "prompt": "?",
                "points": 1,
                "options": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}],
                "answer": "c",
            },
            "answer must be the id of one of the options",
        ),
        (
            {
                "id": "q",
                "type": "multiple_choice",
                "prompt": "?",
                "points": 1,
                "options": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}],
                "answers": [],
            },
            "answers must be a non-empty list",
        ),
        ({"id": "q", "type": "short_text", "prompt": "?", "points": 1, "accepted": []}, "accepted must list"),
        ({"type": "essay", "prompt": "?", "points": 1}, "question #1: id must be"),
        ("not an object", "question #1: must be an object"),
    ],
)
def test_invalid_questions_are_named(question: Any, message: str) -> None:
    with pytest.raises(LmsError, match=message.replace("[", r"\[").replace("]", r"\]").replace("?", r"\?")):
        validate_questions([question])


def test_duplicate_ids_and_bad_answers() -> None:
    with pytest.raises(LmsError, match="question 'rls': id must be a unique"):
        validate_questions([QUESTIONS[2], QUESTIONS[2]])
    validate_answers(QUESTIONS, ALL_RIGHT)
    for answers, message in (
        ({"nope": "a"}, "there is no question 'nope'"),
        ({"capital": "z"}, "does not fit a single_choice"),
        ({"primes": "2"}, "does not fit a multiple_choice"),
        ({"rls": "true"}, "does not fit a true_false"),
        ({"city": 42}, "does not fit a short_text"),
        (["a"], "answers must be an object"),
    ):
        with pytest.raises(LmsError, match=message):
            validate_answers(QUESTIONS, answers)
