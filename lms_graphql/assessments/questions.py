"""The question model: a validated JSON shape, what learners may see of it, and grading.

An assessment's ``questions`` is a list of objects, each with ``id`` (unique string),
``type``, ``prompt`` and ``points`` (> 0), plus per type:

- ``single_choice``: ``options`` [{id, text}] (2-26), ``answer``: the correct option id
- ``multiple_choice``: ``options``, ``answers``: the list of correct option ids
  (all-or-nothing: exactly that set scores the points)
- ``true_false``: ``answer``: true or false
- ``short_text``: ``accepted``: accepted answers, compared after normalising (case,
  surrounding punctuation, runs of whitespace); ``caseSensitive``: true compares case too
- ``essay``: graded by hand

``explanation`` (optional, any type) is shown to editors only, like the keys. A learner's
``answers`` is an object from question id to: an option id, a list of option ids, a boolean,
or a string (short_text and essay).

The score is the points earned over all points, scaled to the assessment's maximum.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from lms_graphql.auth import policies
from lms_graphql.auth.viewer import Viewer
from lms_graphql.errors import bad_input

QUESTION_TYPES = ("single_choice", "multiple_choice", "true_false", "short_text", "essay")
AUTO_GRADED = frozenset(QUESTION_TYPES) - {"essay"}
# Keys that reveal the answer; removed for anyone who cannot edit the course.
ANSWER_KEYS = frozenset({"answer", "answers", "accepted", "explanation", "caseSensitive"})
COMMON_KEYS = frozenset({"id", "type", "prompt", "points", "explanation"})
TYPE_KEYS = {
    "single_choice": frozenset({"options", "answer"}),
    "multiple_choice": frozenset({"options", "answers"}),
    "true_false": frozenset({"answer"}),
    "short_text": frozenset({"accepted", "caseSensitive"}),
    "essay": frozenset(),
}
MAX_QUESTIONS = 200
MAX_PROMPT = 5_000
MAX_OPTIONS = 26
MAX_TEXT_ANSWER = 1_000
MAX_ESSAY = 50_000


def _fail(index: int, question: Any, message: str) -> Exception:
    name = question.get("id") if isinstance(question, dict) and isinstance(question.get("id"), str) else None
    where = f"question {name!r}" if name else f"question #{index + 1}"
    return bad_input(f"{where}: {message}")


def _text(value: Any, limit: int) -> bool:
    return isinstance(value, str) and len(value.strip()) > 0 and len(value) <= limit


def _options(index: int, question: dict[str, Any]) -> set[str]:
    options = question.get("options")
    if not isinstance(options, list) or not 2 <= len(options) <= MAX_OPTIONS:
        raise _fail(index, question, f"options must be a list of 2 to {MAX_OPTIONS} choices")
    ids: set[str] = set()
    for option in options:
        if not isinstance(option, dict) or set(option) != {"id", "text"}:
            raise _fail(index, question, "each option is {id, text}")
        if not _text(option["id"], 64) or not _text(option["text"], MAX_PROMPT) or option["id"] in ids:
            raise _fail(index, question, "option ids must be unique non-empty strings, texts non-empty")
        ids.add(option["id"])
    return ids


def validate_questions(questions: Any) -> list[dict[str, Any]]:
    if not isinstance(questions, list):
        raise bad_input("questions must be a list")
    if len(questions) > MAX_QUESTIONS:
        raise bad_input(f"an assessment has at most {MAX_QUESTIONS} questions")
    seen: set[str] = set()
    for index, question in enumerate(questions):
        if not isinstance(question, dict):
            raise _fail(index, question, "must be an object")
        kind = question.get("type")
        if kind not in TYPE_KEYS:
            raise _fail(index, question, f"type must be one of {', '.join(QUESTION_TYPES)}")
        unknown = set(question) - COMMON_KEYS - TYPE_KEYS[kind]
        if unknown:
            raise _fail(index, question, f"unknown fields {sorted(unknown)} for {kind}")
        if not _text(question.get("id"), 64) or question["id"] in seen:
            raise _fail(index, question, "id must be a unique non-empty string (64 characters at most)")
        seen.add(question["id"])
        if not _text(question.get("prompt"), MAX_PROMPT):
            raise _fail(index, question, f"prompt must be non-empty text of at most {MAX_PROMPT} characters")
        points = question.get("points")
        if isinstance(points, bool) or not isinstance(points, int | float) or not 0 < points <= 1000:
            raise _fail(index, question, "points must be a number above 0 and at most 1000")
        _validate_key(index, question, kind)
    return questions


def _option_ids(value: Any) -> bool:
    """A list of option ids: strings only (a list or object inside is no id, nor hashable)."""
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _validate_key(index: int, question: dict[str, Any], kind: str) -> None:
    if kind == "single_choice":
        ids = _options(index, question)
        answer = question.get("answer")
        if not isinstance(answer, str) or answer not in ids:
            raise _fail(index, question, "answer must be the id of one of the options")
    elif kind == "multiple_choice":
        ids = _options(index, question)
        answers = question.get("answers")
        if not _option_ids(answers) or not answers or len(set(answers)) != len(answers):
            raise _fail(index, question, "answers must be a non-empty list of distinct option ids (strings)")
        if not set(answers) <= ids:
            raise _fail(index, question, "answers must be ids of the options")
    elif kind == "true_false":
        if not isinstance(question.get("answer"), bool):
            raise _fail(index, question, "answer must be true or false")
    elif kind == "short_text":
        accepted = question.get("accepted")
        if not isinstance(accepted, list) or not 0 < len(accepted) <= 50:
            raise _fail(index, question, "accepted must list 1 to 50 accepted answers")
        if not all(_text(item, MAX_TEXT_ANSWER) for item in accepted):
            raise _fail(index, question, "accepted answers must be non-empty text")
        if not isinstance(question.get("caseSensitive", False), bool):
            raise _fail(index, question, "caseSensitive must be true or false")


def auto_gradable(questions: list[dict[str, Any]]) -> bool:
    return bool(questions) and all(question["type"] in AUTO_GRADED for question in questions)


def questions_seen_by(viewer: Viewer | None, instructor_id: uuid.UUID, questions: Any) -> Any:
    """The questions with their answer keys for those who may edit the course, without for others."""
    if viewer is not None and policies.may_edit_course(viewer, instructor_id):
        return questions
    return without_answer_keys(questions)


def without_answer_keys(questions: Any) -> Any:
    if not isinstance(questions, list):
        return []
    return [
        {key: value for key, value in question.items() if key not in ANSWER_KEYS}
        for question in questions
        if isinstance(question, dict)
    ]


def validate_answers(questions: list[dict[str, Any]], answers: Any) -> dict[str, Any]:
    """Answers must name existing questions with a value of the right shape; omitted = blank."""
    if not isinstance(answers, dict):
        raise bad_input("answers must be an object from question id to answer")
    by_id = {question["id"]: question for question in questions}
    for question_id, value in answers.items():
        question = by_id.get(question_id)
        if question is None:
            raise bad_input(f"answers: there is no question {str(question_id)[:64]!r}")
        kind = question["type"]
        option_ids = {option["id"] for option in question.get("options", [])}
        misfit = f"answers: the answer to question {question_id!r} does not fit a {kind} question"
        # Checked before any set is built: a list or object is no option id (nor hashable).
        if kind == "single_choice" and not isinstance(value, str):
            raise bad_input(f"{misfit}: give an option id (a string)")
        if kind == "multiple_choice" and not _option_ids(value):
            raise bad_input(f"{misfit}: give a list of option ids (strings)")
        valid = (
            (kind == "single_choice" and value in option_ids)
            or (kind == "multiple_choice" and len(set(value)) == len(value) and set(value) <= option_ids)
            or (kind == "true_false" and isinstance(value, bool))
            or (kind == "short_text" and isinstance(value, str) and len(value) <= MAX_TEXT_ANSWER)
            or (kind == "essay" and isinstance(value, str) and len(value) <= MAX_ESSAY)
        )
        if not valid:
            raise bad_input(misfit)
    return answers


def normalise(text: str, case_sensitive: bool) -> str:
    folded = unicodedata.normalize("NFKC", text)
    folded = re.sub(r"\s+", " ", folded).strip().strip(".,;:!?\"'()[]").strip()
    return folded if case_sensitive else folded.casefold()


def _correct(question: dict[str, Any], value: Any) -> bool:
    kind = question["type"]
    if kind in ("single_choice", "true_false"):
        return value is not None and value == question["answer"] and type(value) is type(question["answer"])
    if kind == "multiple_choice":
        return isinstance(value, list) and set(value) == set(question["answers"])
    if kind == "short_text":
        sensitive = bool(question.get("caseSensitive", False))
        accepted = {normalise(item, sensitive) for item in question["accepted"]}
        return isinstance(value, str) and normalise(value, sensitive) in accepted
    return False


def grade(questions: list[dict[str, Any]], answers: dict[str, Any], max_score: Decimal) -> Decimal:
    """Points earned over all points, scaled to ``max_score`` (two decimals)."""
    total = sum(Decimal(str(question["points"])) for question in questions)
    if total == 0:
        return Decimal(0)
    earned = sum(
        (Decimal(str(q["points"])) for q in questions if _correct(q, answers.get(q["id"]))),
        Decimal(0),
    )
    return (earned / total * max_score).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
