"""Grading and mastery rules, as pure functions (no request, no session, no database).

Rules (teach-back):
* A module teaches a set of key points; questions with the same `key_point` sentence teach the same one.
* First pass: one question per key point, in bank order. The first answer on a key point is its
  first try, and only first tries score.
* A key point is mastered once any answer on it is correct. A missed key point comes back after the
  first pass, as a question on that key point the patient has not seen yet if there is one, otherwise the
  one seen longest ago (never the question just answered when another exists).
* After ASK_NURSE_AFTER_MISSES misses a key point not yet mastered is **parked**: the quiz stops asking
  it and the patient is asked to go over it with their nurse. It is asked again only after the nurse
  records a teach-back showing understanding, and then once: one question, an unseen one if there is
  one. Right, it is mastered; wrong, it is parked again until the next such teach-back. The teach-back
  comes in as data (`taught`: for each key point, how many of the module's answers had been given when
  it was recorded; `quiz.readiness.teach_back_positions` derives it), so these rules stay pure.
* A module is complete when every key point is mastered, and finished (nothing left to ask) when every
  key point is mastered or parked. Without a teach-back a module therefore ends after at most
  (key points x ASK_NURSE_AFTER_MISSES) answers, and each teach-back adds at most one more.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .question_types import QUESTION_TYPES

# After this many misses on one key point the feedback suggests going over it with the nurse, and the
# quiz stops asking it until the nurse has (the key point is parked).
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
    # Where each attempt stands among the module's answers (0 = the module's first answer).
    steps: tuple[int, ...] = ()
    # How many of the module's answers had been given when the nurse's latest teach-back on this key
    # point, showing understanding, was recorded; None without one.
    taught_at: int | None = None

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

    @property
    def waiting_for_nurse(self) -> bool:
        """Missed often enough to be taken out of the quiz, and not learned yet."""
        return self.needs_nurse and not self.mastered

    @property
    def recheck_due(self) -> bool:
        """Waiting for the nurse, and the nurse has since recorded a teach-back showing understanding:
        the patient gets one more question on it."""
        return (self.waiting_for_nurse and self.taught_at is not None
                and bool(self.steps) and self.taught_at > self.steps[-1])

    @property
    def parked(self) -> bool:
        """Not asked again until the nurse records a teach-back showing understanding."""
        return self.waiting_for_nurse and not self.recheck_due

    @property
    def rechecks(self) -> tuple[bool, ...]:
        """The answers given after the key point had been missed ASK_NURSE_AFTER_MISSES times (right or
        not), oldest first: the re-checks after teach-back."""
        results, misses = [], 0
        for attempt in self.attempts:
            if misses >= ASK_NURSE_AFTER_MISSES:
                results.append(attempt.correct)
            misses += not attempt.correct
        return tuple(results)

    @property
    def askable(self) -> bool:
        """The quiz may ask this key point now."""
        return not self.mastered and not self.parked


@dataclass(frozen=True)
class ModuleProgress:
    key_points: tuple[KeyPointProgress, ...]
    next_question_id: str | None

    @property
    def complete(self) -> bool:
        """Every key point learned (what "must be mastered before discharge" means)."""
        return bool(self.key_points) and all(k.mastered for k in self.key_points)

    @property
    def finished(self) -> bool:
        """Nothing left to ask: every key point learned or parked for the nurse."""
        return bool(self.key_points) and not any(k.askable for k in self.key_points)

    @property
    def parked(self) -> tuple[KeyPointProgress, ...]:
        return tuple(k for k in self.key_points if k.parked)

    @property
    def waiting_for_nurse(self) -> tuple[KeyPointProgress, ...]:
        """Key points taken out of the quiz and not learned yet (parked, or with a re-check due)."""
        return tuple(k for k in self.key_points if k.waiting_for_nurse)

    @property
    def recheck_due(self) -> bool:
        """A re-taught key point waits for its one re-check question."""
        return any(k.recheck_due for k in self.key_points)

    @property
    def next_is_recheck(self) -> bool:
        """The next question is the one re-check after the nurse's teach-back."""
        return any(k.recheck_due and self.next_question_id in k.question_ids for k in self.key_points)

    def point(self, key_point: str) -> KeyPointProgress | None:
        return next((k for k in self.key_points if k.key_point == key_point), None)

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
        """At least this many more questions: one per key point the quiz may still ask (a miss may add
        more, which is why pages say "about")."""
        return sum(k.askable for k in self.key_points)

    @property
    def in_review(self) -> bool:
        """All key points tried once; what is left is re-checking missed ones."""
        return all(k.attempted for k in self.key_points) and not self.finished


def module_progress(
    questions: Sequence[tuple[str, str]], answers: Sequence[AnswerRecord],
    taught: Mapping[str, int] | None = None,
) -> ModuleProgress:
    """Progress through one module and the question to ask next.

    `questions` are the module's live (question_id, key_point) pairs in bank order; `answers` are the
    patient's answers in this module in the order given, each with the key point of the version the
    patient saw. An answer counts towards that key point, the one the patient was taught, even if the
    question has since been edited or moved to another key point; answers on key points no longer
    taught are ignored. So a bank reload never rewrites what a past answer counted for.

    `taught` maps a key point to how many of these answers had been given when the nurse's latest
    teach-back on it, showing understanding, was recorded (key points without one are left out).
    """
    taught = taught or {}
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
        KeyPointProgress(k, tuple(question_ids[k]), tuple(a for _, a in attempts[k]),
                         tuple(step for step, _ in attempts[k]), taught.get(k))
        for k in order
    )
    return ModuleProgress(progress, _next_question(progress, answers))


def _next_question(progress: tuple[KeyPointProgress, ...], answers) -> str | None:
    for point in progress:
        if not point.attempted:
            return point.question_ids[0]
    # Parked key points wait for the nurse; a re-check due after a teach-back takes its turn here.
    missed = [k for k in progress if k.askable]
    if not missed:
        return None
    # The missed key point whose last attempt is oldest goes first, so misses take turns.
    point = min(missed, key=lambda k: k.steps[-1])
    last_asked: dict[str, int] = {}
    for step, answer in enumerate(answers):
        last_asked[answer.question_id] = step
    just_answered = answers[-1].question_id if answers else None
    candidates = [q for q in point.question_ids if q != just_answered] or list(point.question_ids)
    # Unseen questions first (-1), then the one seen longest ago; bank order breaks ties.
    return min(candidates, key=lambda q: last_asked.get(q, -1))


def answered_elsewhere(
    stored_question_id: str, stored_selected: Sequence[int], feedback_on_show: bool,
    posted_question_id: str, posted_selected: Sequence[int],
) -> bool:
    """A question form was posted for a step that already has an answer. Was that answer given on
    another screen (an older tab, a second device)?

    Not when it is this screen's own answer sent again (a double click, a resent form): the same
    question with the same choices, its feedback still on show. Anything else, a different choice, a
    different question at that step, or an answer the patient has already moved on from, came from
    a screen that is out of date, and the patient is told so. Either way nothing new is stored."""
    same = stored_question_id == posted_question_id and sorted(stored_selected) == sorted(posted_selected)
    return not (same and feedback_on_show)
