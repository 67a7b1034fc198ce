"""What the patient pages do, in terms of the database: which card is current, storing an answer exactly
once, moving on from feedback. Views call these and only translate to and from HTTP.

The current card of a module is derived, never stored: if the last answer's feedback has not been
acknowledged, it is that feedback; otherwise the question `grading.module_progress` picks; otherwise the
module is complete. So a refresh, the back button or coming back days later all land on the same card.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..bank.meta import BankMeta, read_meta
from .. import stats
from ..extensions import db
from ..grading import AnswerRecord, ModuleProgress, grade, module_progress
from ..models import Answer, Assignment, Module, Question, utcnow


class StaleAnswer(Exception):
    """The posted form is not for the current card (an old tab, the back button); nothing stored."""


class QuestionChanged(Exception):
    """The question on the card was edited since the patient saw it; nothing stored."""


@dataclass
class ModuleState:
    module: Module
    questions: list[Question]
    answers: list[Answer]
    progress: ModuleProgress

    @property
    def pending_feedback(self) -> Answer | None:
        if self.answers and self.answers[-1].acknowledged_at is None:
            return self.answers[-1]
        return None

    @property
    def next_question(self) -> Question | None:
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

    def misses_on(self, key_point: str) -> int:
        return next((k.misses for k in self.progress.key_points if k.key_point == key_point), 0)


def assigned_module(assignment: Assignment, module_id: str) -> Module | None:
    for link in assignment.modules:
        if link.module_id == module_id:
            return link.module
    return None


def served_questions(module: Module | None = None) -> list[Question]:
    """The questions a patient may see (not retired, current content reviewed), of one module or of
    all, in bank order within each module."""
    query = (
        db.select(Question)
        .where(Question.retired_at.is_(None))
        .options(selectinload(Question.versions), selectinload(Question.module))
        .order_by(Question.module_id, Question.position)
    )
    if module is not None:
        query = query.where(Question.module_id == module.id)
    return [q for q in db.session.execute(query).scalars() if not q.current_version.is_draft]


def _state(module: Module, questions: list[Question], answers: list[Answer]) -> ModuleState:
    progress = module_progress(
        [(q.id, q.current_version.key_point) for q in questions],
        [AnswerRecord(a.question_id, a.version.key_point, a.correct) for a in answers],
    )
    return ModuleState(module, questions, answers, progress)


def _answers(assignment: Assignment, module: Module | None = None) -> list[Answer]:
    query = (
        db.select(Answer)
        .where(Answer.assignment_id == assignment.id)
        .options(selectinload(Answer.version))
        .order_by(Answer.module_id, Answer.step)
    )
    if module is not None:
        query = query.where(Answer.module_id == module.id)
    return list(db.session.execute(query).scalars())


def module_state(assignment: Assignment, module: Module) -> ModuleState:
    return _state(module, served_questions(module), _answers(assignment, module))


def assignment_states(assignment: Assignment) -> list[ModuleState]:
    """Every assigned module's state, in the nurse's order. The questions and the answers of all the
    modules are read together, not module by module: the topics page, the results page and the end of
    a topic ("Next topic", "2 of 7 topics done") each need all of them."""
    modules = [link.module for link in assignment.modules]
    wanted = {module.id for module in modules}
    questions: dict[str, list[Question]] = {module_id: [] for module_id in wanted}
    for question in served_questions():
        if question.module_id in wanted:
            questions[question.module_id].append(question)
    answers: dict[str, list[Answer]] = {module_id: [] for module_id in wanted}
    for answer in _answers(assignment):
        answers.setdefault(answer.module_id, []).append(answer)
    return [_state(module, questions[module.id], answers[module.id]) for module in modules]


def suggested_order(states: list[ModuleState]) -> list[ModuleState]:
    """The order a patient is offered the topics in: the ones that must be learned before going home
    first, otherwise the order the nurse gave them."""
    return sorted(states, key=lambda state: not state.module.critical)


def next_topic(states: list[ModuleState], after: str | None = None) -> ModuleState | None:
    """The first unfinished topic in the suggested order, other than the module `after`."""
    return next((s for s in suggested_order(states)
                 if not s.progress.complete and s.module.id != after and s.progress.key_points), None)


def submit_answer(
    assignment: Assignment, module: Module, step: int, question_id: str, version_id: int,
    selected: list[int],
) -> tuple[Answer, bool]:
    """Store the answer for `step` and return it with True; if that step already has an answer (double
    click, replayed post, concurrent request) return the stored one with False. Raise StaleAnswer when
    the form is not for the current card, QuestionChanged when the card showed an older version."""
    state = module_state(assignment, module)
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
    answer = Answer(
        assignment_id=assignment.id, module_id=module.id, step=step, question_id=question.id,
        question_version_id=version.id, selected=sorted(selected), correct=correct,
    )
    db.session.add(answer)
    try:
        stats.answer_recorded(state, answer)  # the summary tables, in the answer's transaction
        db.session.commit()
    except IntegrityError:
        # Another request stored this step first; the first answer stands.
        db.session.rollback()
        existing = db.session.execute(
            db.select(Answer).filter_by(assignment_id=assignment.id, module_id=module.id, step=step)
        ).scalar_one()
        return existing, False
    return answer, True


def acknowledge(assignment: Assignment, module: Module, answer_id: int) -> None:
    """Mark the feedback for `answer_id` as read. Repeating it, or naming an older answer, is harmless."""
    answer = db.session.execute(
        db.select(Answer).filter_by(id=answer_id, assignment_id=assignment.id, module_id=module.id)
    ).scalar_one_or_none()
    if answer is not None and answer.acknowledged_at is None:
        answer.acknowledged_at = utcnow()
        db.session.commit()


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
