"""Grading and mastery rules, as pure functions (no request, no session, no database).

Rules (teach-back):
* A module teaches a set of key points; questions with the same `key_point` sentence teach the same one.
* First pass: one question per key point, in bank order. The first answer on a key point is its
  first try, and only first tries score.
* A key point is mastered once any answer on it is correct. A missed key point comes back after the
  first pass, as a question on that key point the patient has not seen yet if there is one, otherwise the
  one seen longest ago (never the question just answered when another exists).
* A module is complete when every key point is mastered.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .question_types import QUESTION_TYPES

# After this many misses on one key point the feedback suggests going over it with the nurse.
ASK_NURSE_AFTER_MISSES = 2


def grade(question_type: str, correct_flags: Sequence[bool], selected: Sequence[int]) -> bool:
    """True when `selected` (choice indices) is exactly the set of correct choices."""
    qtype = QUESTION_TYPES[question_type]
    if any(not 0 <= index < len(correct_flags) for index in selected):
        raise ValueError(f"selection {list(selected)} is out of range")
    if not qtype.multiple_selection and len(selected) != 1:
        raise ValueError("this question takes exactly one choice")
    return qtype.is_correct(correct_flags, selected)


@dataclass(frozen=True)
class AnswerRecord:
    """What mastery needs of one stored answer, in the order answers were given."""

    question_id: str
    key_point: str
    correct: bool


@dataclass(frozen=True)
class KeyPointProgress:
    key_point: str
    question_ids: tuple[str, ...]
    attempts: tuple[AnswerRecord, ...]

    @property
    def attempted(self) -> bool:
        return bool(self.attempts)

    @property
    def first_try_correct(self) -> bool | None:
        return self.attempts[0].correct if self.attempts else None

    @property
    def mastered(self) -> bool:
        return any(a.correct for a in self.attempts)

    @property
    def relearned(self) -> bool:
        """Missed at first, then mastered after re-teaching."""
        return self.mastered and self.first_try_correct is False

    @property
    def misses(self) -> int:
        return sum(not a.correct for a in self.attempts)

    @property
    def needs_nurse(self) -> bool:
        """Missed often enough that the patient was asked to go over it with their nurse."""
        return self.misses >= ASK_NURSE_AFTER_MISSES

    @property
    def learned_on_retry(self) -> bool:
        """Missed, then learned, without needing the nurse."""
        return self.relearned and not self.needs_nurse


@dataclass(frozen=True)
class ModuleProgress:
    key_points: tuple[KeyPointProgress, ...]
    next_question_id: str | None

    @property
    def complete(self) -> bool:
        return bool(self.key_points) and all(k.mastered for k in self.key_points)

    @property
    def started(self) -> bool:
        return any(k.attempted for k in self.key_points)

    @property
    def mastered_count(self) -> int:
        return sum(k.mastered for k in self.key_points)

    @property
    def first_try_correct(self) -> int:
        return sum(k.first_try_correct is True for k in self.key_points)

    @property
    def first_try_total(self) -> int:
        return sum(k.attempted for k in self.key_points)

    @property
    def questions_left(self) -> int:
        """At least this many more questions: one per key point not mastered yet (a miss may add more,
        which is why pages say "about")."""
        return sum(not k.mastered for k in self.key_points)

    @property
    def in_review(self) -> bool:
        """All key points tried once; what is left is re-checking missed ones."""
        return all(k.attempted for k in self.key_points) and not self.complete


def module_progress(
    questions: Sequence[tuple[str, str]], answers: Sequence[AnswerRecord]
) -> ModuleProgress:
    """Progress through one module and the question to ask next.

    `questions` are the module's live (question_id, key_point) pairs in bank order; `answers` are the
    patient's answers in this module in the order given, each with the key point of the version the
    patient saw. An answer counts towards that key point, the one the patient was taught, even if the
    question has since been edited or moved to another key point; answers on key points no longer
    taught are ignored. So a bank reload never rewrites what a past answer counted for.
    """
    order: list[str] = []
    question_ids: dict[str, list[str]] = {}
    for question_id, key_point in questions:
        if key_point not in question_ids:
            order.append(key_point)
            question_ids[key_point] = []
        question_ids[key_point].append(question_id)

    attempts: dict[str, list[tuple[int, AnswerRecord]]] = {k: [] for k in order}
    for step, answer in enumerate(answers):
        if answer.key_point in attempts:
            attempts[answer.key_point].append((step, answer))

    progress = tuple(
        KeyPointProgress(k, tuple(question_ids[k]), tuple(a for _, a in attempts[k])) for k in order
    )
    return ModuleProgress(progress, _next_question(order, question_ids, attempts, answers))


def _next_question(order, question_ids, attempts, answers) -> str | None:
    for key_point in order:
        if not attempts[key_point]:
            return question_ids[key_point][0]
    missed = [k for k in order if not any(a.correct for _, a in attempts[k])]
    if not missed:
        return None
    # The missed key point whose last attempt is oldest goes first, so misses take turns.
    key_point = min(missed, key=lambda k: attempts[k][-1][0])
    last_asked: dict[str, int] = {}
    for step, answer in enumerate(answers):
        last_asked[answer.question_id] = step
    just_answered = answers[-1].question_id if answers else None
    candidates = [q for q in question_ids[key_point] if q != just_answered] or question_ids[key_point]
    # Unseen questions first (-1), then the one seen longest ago; bank order breaks ties.
    return min(candidates, key=lambda q: last_asked.get(q, -1))
