"""What of an assessment's questions a learner may see."""

from __future__ import annotations

from typing import Any

# Keys that reveal the answer; removed for anyone who cannot edit the course.
ANSWER_KEYS = frozenset({"answer", "answers", "correct", "accepted", "explanation"})


def without_answer_keys(questions: Any) -> Any:
    if not isinstance(questions, list):
        return []
    public: list[Any] = []
    for question in questions:
        if isinstance(question, dict):
            public.append({key: value for key, value in question.items() if key not in ANSWER_KEYS})
    return public
