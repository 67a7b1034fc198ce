"""What the patient pages do, in terms of the database: which card is current, storing an answer exactly
once, moving on from feedback. Views call these and only translate to and from HTTP.

The current card of a module is derived, never stored: if the last answer's feedback has not been
acknowledged, it is that feedback; otherwise the question `grading.module_progress` picks; otherwise the
module is complete. So a refresh, the back button or coming back days later all land on the same card.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..bank import snapshot
from ..bank.meta import BankMeta, read_meta
from .. import stats
from ..bank.snapshot import ModuleView, QuestionView, VersionView
from ..extensions import db
from ..grading import AnswerRecord, ModuleProgress, grade, module_progress
from ..models import Answer, Question, TeachBack, utcnow
from ..readiness import TeachBackEntry, teach_back_positions


class StaleAnswer(Exception):
    """The posted form is not for the current card (an old tab, the back button); nothing stored."""


class QuestionChanged(Exception):
    """The question on the card was edited since the patient saw it; nothing stored."""


@dataclass(frozen=True)
class AssignmentRef:
    """What these functions need of an assignment: plain values, read once per request. They stay
    valid after a commit, where an ORM object would reload itself on its next attribute read."""

    id: int
    module_ids: tuple[str, ...]

    @classmethod
    def of(cls, assignment) -> AssignmentRef:
        if isinstance(assignment, cls):
            return assignment
        return cls(assignment.id, tuple(link.module_id for link in assignment.modules))


@dataclass(frozen=True)
class AnswerView:
    """One stored answer, as read for a module's state (a plain row, not an ORM object), with the
    version the patient saw."""

    id: int
    module_id: str
    step: int
    question_id: str
    question_version_id: int
    selected: list
    correct: bool
    created_at: datetime
    acknowledged_at: datetime | None
    version: VersionView


@dataclass
class ModuleState:
    module: ModuleView
    questions: tuple[QuestionView, ...]
    answers: list[AnswerView]
    # Per parked key point, how many answers had been given when the nurse's teach-back was recorded
    # (`quiz.readiness.teach_back_positions`); None when no key point waits for the nurse.
    taught: dict[str, int] | None = None
    progress: ModuleProgress = field(init=False)

    def __post_init__(self) -> None:
        self.progress = module_progress(
            [(q.id, q.current_version.key_point) for q in self.questions],
            [AnswerRecord(a.question_id, a.version.key_point, a.correct) for a in self.answers],
            self.taught,
        )

    def with_answers(self, answers: list[AnswerView]) -> ModuleState:
        """The same module after its answers changed (one stored or acknowledged in this request):
        computed, not read back from the database. The teach-back positions stay true: they count
        answers given before the entry, and a new answer comes after it."""
        return ModuleState(self.module, self.questions, answers, self.taught)

    @property
    def pending_feedback(self) -> AnswerView | None:
        if self.answers and self.answers[-1].acknowledged_at is None:
            return self.answers[-1]
        return None

    @property
    def next_question(self) -> QuestionView | None:
        wanted = self.progress.next_question_id
        return next((q for q in self.questions if q.id == wanted), None)

    @property
    def next_step(self) -> int:
        return len(self.answers)

    @property
    def question_number(self) -> int:
        """The number of the card's question in this module: the one just answered on a feedback
        card, the one being asked on a question card."""
        return len(self.answers) + (0 if self.pending_feedback is not None else 1)

    @property
    def questions_estimate(self) -> int:
        """How many questions this module will take, as far as can be told now ("about" M)."""
        return len(self.answers) + self.progress.questions_left


def assigned_module(assignment, module_id: str) -> ModuleView | None:
    if module_id not in AssignmentRef.of(assignment).module_ids:
        return None
    return snapshot.current().modules.get(module_id)


def served_questions(module=None) -> list[Question]:
    """The questions a patient may see (not retired, current content reviewed), of one module or of
    all, in bank order within each module, as ORM objects (staff pages; the patient pages use the
    in-memory `quiz.bank.snapshot`, which applies the same rule)."""
    query = (
        db.select(Question)
        .where(Question.retired_at.is_(None))
        .options(selectinload(Question.versions), selectinload(Question.module))
        .order_by(Question.module_id, Question.position)
    )
    if module is not None:
        query = query.where(Question.module_id == module.id)
    return [q for q in db.session.execute(query).scalars() if not q.current_version.is_draft]


# Core columns (the table's, not the mapped class's): a plain row read skips the ORM's statement
# compilation and object loading, the larger part of a small query's cost in Python.
_ANSWER = Answer.__table__.c
_ANSWER_COLUMNS = (_ANSWER.id, _ANSWER.module_id, _ANSWER.step, _ANSWER.question_id, _ANSWER.question_version_id,
                   _ANSWER.selected, _ANSWER.correct, _ANSWER.created_at, _ANSWER.acknowledged_at)


def _answers(assignment_id: int, module_id: str | None = None) -> list[AnswerView]:
    query = (
        db.select(*_ANSWER_COLUMNS)
        .where(_ANSWER.assignment_id == assignment_id)
        .order_by(_ANSWER.module_id, _ANSWER.step)
    )
    if module_id is not None:
        query = query.where(_ANSWER.module_id == module_id)
    rows = db.session.execute(query).all()
    bank = snapshot.current()
    if any(row.question_version_id not in bank.versions for row in rows):
        bank = snapshot.refreshed()  # a reload committed after this request read the bank
    return [AnswerView(*row, version=bank.versions[row.question_version_id]) for row in rows]


def module_state(assignment, module) -> ModuleState:
    """Where a patient is in one module: one query (the answers; a second only while a key point waits
    for the nurse); the bank comes from memory."""
    ref = AssignmentRef.of(assignment)
    answers = _answers(ref.id, module.id)
    bank = snapshot.current()
    return _with_teach_back(ref, [ModuleState(bank.modules[module.id], bank.served_in(module.id), answers)])[0]


def assignment_states(assignment) -> list[ModuleState]:
    """Every assigned module's state, in the nurse's order. The answers of all the modules are read
    together, not module by module: the topics page, the results page and the end of a topic ("Next
    topic", "2 of 7 topics done") each need all of them."""
    ref = AssignmentRef.of(assignment)
    answers: dict[str, list[AnswerView]] = {module_id: [] for module_id in ref.module_ids}
    for answer in _answers(ref.id):
        answers.setdefault(answer.module_id, []).append(answer)
    bank = snapshot.current()
    return _with_teach_back(ref, [ModuleState(bank.modules[module_id], bank.served_in(module_id), answers[module_id])
                                  for module_id in ref.module_ids])


def suggested_order(states: list[ModuleState]) -> list[ModuleState]:
    """The order a patient is offered the topics in: the ones that must be learned before going home
    first, otherwise the order the nurse gave them."""
    return sorted(states, key=lambda state: not state.module.critical)


def next_topic(states: list[ModuleState], after: str | None = None) -> ModuleState | None:
    """The first unfinished topic in the suggested order, other than the module `after`."""
    return next((s for s in suggested_order(states)
                 if not s.progress.finished and s.module.id != after and s.progress.key_points), None)


def _with_teach_back(ref: AssignmentRef, states: list[ModuleState]) -> list[ModuleState]:
    """The states again, with the nurse's teach-back, where a key point waits for the nurse (parked,
    `quiz.grading`): a teach-back showing understanding gives it one re-check question. One query,
    and only then: a patient who never misses a key point twice never pays for it."""
    waiting = {s.module.id for s in states if s.progress.waiting_for_nurse}
    if not waiting:
        return states
    entries = [
        TeachBackEntry(e.id, e.module_id, e.key_point, e.response, e.supersedes_id, e.recorded_at)
        for e in db.session.execute(db.select(TeachBack).where(
            TeachBack.assignment_id == ref.id, TeachBack.module_id.in_(waiting))).scalars()
    ]
    taught = teach_back_positions(
        entries, {s.module.id: [a.created_at for a in s.answers] for s in states if s.module.id in waiting})
    return [ModuleState(s.module, s.questions, s.answers, taught[s.module.id]) if s.module.id in taught else s
            for s in states]


def submit_answer(
    assignment, module, step: int, question_id: str, version_id: int, selected: list[int],
    state: ModuleState | None = None,
) -> tuple[AnswerView, bool]:
    """Store the answer for `step` and return it with True; if that step already has an answer (double
    click, replayed post, concurrent request) return the stored one with False. Raise StaleAnswer when
    the form is not for the current card, QuestionChanged when the card showed an older version.

    `state` is the module's state the caller has just read in this request (read here otherwise).
    The answer is one INSERT and one commit; nothing is read back afterwards (`answered` gives the
    module's state with it)."""
    ref = AssignmentRef.of(assignment)
    if state is None:
        state = module_state(ref, module)
    if step < state.next_step:
        existing = state.answers[step]
        if existing.question_id != question_id:
            raise StaleAnswer()
        return existing, False
    question = state.next_question
    if step != state.next_step or state.pending_feedback or question is None or question.id != question_id:
        raise StaleAnswer()
    version = question.current_version
    if version.id != version_id:
        raise QuestionChanged()
    correct = grade(version.type, [c["correct"] for c in version.choices], selected)
    row = Answer(
        assignment_id=ref.id, module_id=module.id, step=step, question_id=question.id,
        question_version_id=version.id, selected=sorted(selected), correct=correct, created_at=utcnow(),
    )
    db.session.add(row)
    try:
        db.session.flush()
        answer = AnswerView(row.id, module.id, step, question.id, version.id, row.selected, correct,
                            row.created_at, None, version)
        # The summary tables, in the answer's own transaction (one commit).
        stats.answer_recorded(ref.id, state, answered(state, answer))
        db.session.commit()
    except IntegrityError:
        # Another request stored this step first; the first answer stands.
        db.session.rollback()
        return next(a for a in _answers(ref.id, module.id) if a.step == step), False
    return answer, True


def answered(state: ModuleState, answer: AnswerView) -> ModuleState:
    """The module's state with `answer` just stored as its next step."""
    return state.with_answers([*state.answers, answer])


def acknowledge(assignment, module, answer_id: int, state: ModuleState | None = None) -> ModuleState:
    """Mark the feedback for `answer_id` as read, and return the module's state after it. Repeating
    it, or naming an older answer or another patient's, changes nothing."""
    if state is None:
        state = module_state(assignment, module)
    index = next((i for i, a in enumerate(state.answers) if a.id == answer_id), None)
    if index is None or state.answers[index].acknowledged_at is not None:
        return state
    now = utcnow()
    db.session.execute(
        db.update(Answer.__table__)
        .where(_ANSWER.id == answer_id, _ANSWER.acknowledged_at.is_(None))
        .values(acknowledged_at=now)
    )
    db.session.commit()
    answers = list(state.answers)
    answers[index] = replace(answers[index], acknowledged_at=now)
    return state.with_answers(answers)


def bank_meta() -> BankMeta | None:
    """The medicine's name and the get-help-now signs (`bank.yaml`), read from the bank folder once per
    process like the source documents (they change only with a deploy). None when the file is missing,
    or invalid (logged: `questions check` refuses such a bank, so this means the files were edited after
    it was loaded); the summary then shows its general "get help now" line without signs."""
    extensions = current_app.extensions
    if "quiz_bank_meta" not in extensions:
        from ..sources.routes import sources  # the sources blueprint builds on this module

        loaded = sources()
        problems: list = []
        meta = read_meta(Path(current_app.config["QUESTIONS_DIR"]),
                         {name: source for name, (source, _) in loaded.items()},
                         {name: folded for name, (_, folded) in loaded.items()}, problems, [])
        if problems:
            current_app.logger.error("bank.yaml is invalid, so no get-help signs are shown: %s",
                                     "; ".join(str(p) for p in problems))
        extensions["quiz_bank_meta"] = meta
    return extensions["quiz_bank_meta"]
