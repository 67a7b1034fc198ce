"""What the nurse pages need from the database, in few queries: the progress and readiness of every
assignment on a unit (one query per kind of row, however many patients), the cheap "has anything
changed" marker the live list polls, the detail a nurse re-teaches from, and teach-back entries.

Progress comes from the same pure rules as the patient's own pages (`grading.module_progress`) and
readiness from `quiz.readiness`; nothing here is stored twice.
"""
from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import selectinload

from .. import stats
from ..extensions import db
from ..grading import AnswerRecord, module_progress
from ..models import (
    LEARNERS, METHODS, RESPONSES, Answer, Assignment, AssignmentModule, Module, Patient, Question, QuestionVersion,
    StaffUser, TeachBack, Unit, utcnow,
)
from ..readiness import (
    MissedKeyPoint, ModuleResult, Readiness, TeachBackEntry, readiness, teach_back_positions,
)


class TeachBackError(ValueError):
    """The entry cannot be recorded as posted (unknown key point, stale correction ...)."""


def visible_units(user: StaffUser) -> list[Unit]:
    if user.is_admin:
        return list(db.session.execute(db.select(Unit).order_by(Unit.name)).scalars())
    return list(user.units)


def natural_key(label: str) -> tuple:
    """"Bed 2" before "Bed 10"."""
    return tuple((0, int(part)) if part.isdigit() else (1, part.lower()) for part in re.split(r"(\d+)", label) if part)


def key_point_ref(module_id: str, key_point: str) -> str:
    """A short stable name for a key point in forms and anchors (the key point is its sentence)."""
    return hashlib.sha256(f"{module_id}\n{key_point}".encode("utf-8")).hexdigest()[:16]


# --- summaries for the list -----------------------------------------------------------------------

@dataclass
class AssignmentSummary:
    assignment: Assignment
    modules: list[ModuleResult]
    readiness: Readiness
    last_activity: datetime | None

    @property
    def key_points_total(self) -> int:
        return sum(len(m.progress.key_points) for m in self.modules)

    @property
    def key_points_learned(self) -> int:
        return sum(m.progress.mastered_count for m in self.modules)

    @property
    def code_state(self) -> str:
        return code_state(self.assignment)


def code_state(assignment: Assignment, now: datetime | None = None) -> str:
    if assignment.revoked_at is not None:
        return "revoked"
    return "active" if assignment.expires_at > (now or utcnow()) else "expired"


def served_key_points() -> dict[str, list[tuple[str, str]]]:
    """module id -> [(question id, key point)] of the questions patients are served, in bank order.

    The same rule as `patient.service.served_questions` (not retired, current version reviewed; a test
    holds them equal), read as plain rows: the list needs only these two columns, and loading every
    question with its version history costs more than the rest of a list refresh.
    """
    rows = db.session.execute(
        db.select(Question.module_id, Question.id, QuestionVersion.key_point)
        .join(QuestionVersion, (QuestionVersion.question_id == Question.id)
              & (QuestionVersion.fingerprint == Question.current_fingerprint))
        .where(Question.retired_at.is_(None), QuestionVersion.reviewed_on.is_not(None))
        .order_by(Question.module_id, Question.position)
    )
    by_module: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for module_id, question_id, key_point in rows:
        by_module[module_id].append((question_id, key_point))
    return by_module


def summarize(assignments: list[Assignment]) -> list[AssignmentSummary]:
    """Progress and readiness of each assignment: three queries in all (answers, teach-back, bank)."""
    ids = [a.id for a in assignments]
    if not ids:
        return []
    answers: dict[tuple[int, str], list[AnswerRecord]] = defaultdict(list)
    times: dict[int, dict[str, list[datetime]]] = defaultdict(lambda: defaultdict(list))
    last: dict[int, datetime] = {}
    for assignment_id, module_id, question_id, correct, created_at, key_point in db.session.execute(
        db.select(Answer.assignment_id, Answer.module_id, Answer.question_id, Answer.correct, Answer.created_at,
                  QuestionVersion.key_point)
        .join(QuestionVersion, QuestionVersion.id == Answer.question_version_id)
        .where(Answer.assignment_id.in_(ids))
        .order_by(Answer.assignment_id, Answer.module_id, Answer.step)
    ):
        answers[(assignment_id, module_id)].append(AnswerRecord(question_id, key_point, correct))
        times[assignment_id][module_id].append(created_at)
        if assignment_id not in last or created_at > last[assignment_id]:
            last[assignment_id] = created_at
    entries: dict[int, list[TeachBackEntry]] = defaultdict(list)
    for row in db.session.execute(
        db.select(TeachBack.assignment_id, TeachBack.id, TeachBack.module_id, TeachBack.key_point,
                  TeachBack.response, TeachBack.supersedes_id, TeachBack.recorded_at)
        .where(TeachBack.assignment_id.in_(ids))
    ):
        entries[row.assignment_id].append(TeachBackEntry(row.id, row.module_id, row.key_point, row.response,
                                                         row.supersedes_id, row.recorded_at))
    questions = served_key_points()
    summaries = []
    for assignment in assignments:
        # The nurse's teach-back decides whether a parked key point gets its re-check (quiz.grading).
        taught = teach_back_positions(entries[assignment.id], times[assignment.id])
        modules = [
            ModuleResult(link.module_id, link.module.title, link.module.critical,
                         module_progress(questions.get(link.module_id, []), answers[(assignment.id, link.module_id)],
                                         taught.get(link.module_id)))
            for link in assignment.modules
        ]
        summaries.append(AssignmentSummary(assignment, modules, readiness(modules, entries[assignment.id]),
                                           last.get(assignment.id)))
    return summaries


def unit_assignments(unit: Unit) -> tuple[list[Assignment], list[Assignment]]:
    """(live, ended) assignments of the unit, each sorted by patient label as a ward reads it."""
    rows = list(db.session.execute(
        db.select(Assignment).join(Patient).where(Patient.unit_id == unit.id)
        .options(selectinload(Assignment.patient),
                 selectinload(Assignment.modules).selectinload(AssignmentModule.module))
    ).scalars())
    now = utcnow()
    rows.sort(key=lambda a: (natural_key(a.patient.label), a.id))
    live = [a for a in rows if code_state(a, now) == "active"]
    ended = [a for a in rows if code_state(a, now) != "active"]
    return live, ended


def list_version(unit_id: int) -> str:
    """A marker that changes whenever the unit's list would: an answer given, a teach-back entry, an
    assignment created or changed by staff, a code running out. One SQL statement of four index
    lookups, so a poll that finds nothing new costs about as much as the session check itself."""
    in_unit = db.select(Assignment.id).join(Patient).where(Patient.unit_id == unit_id)
    now = utcnow()
    row = db.session.execute(db.select(
        db.select(db.func.max(Answer.id)).where(Answer.assignment_id.in_(in_unit)).scalar_subquery(),
        db.select(db.func.max(TeachBack.id)).where(TeachBack.assignment_id.in_(in_unit)).scalar_subquery(),
        db.select(db.func.max(Assignment.updated_at)).where(Assignment.id.in_(in_unit)).scalar_subquery(),
        db.select(db.func.count(Assignment.id))
        .where(Assignment.id.in_(in_unit), Assignment.expires_at > now).scalar_subquery(),
    )).one()
    return hashlib.sha256(repr(tuple(row)).encode()).hexdigest()[:16]


# --- the detail page --------------------------------------------------------------------------------

@dataclass
class MissView:
    """One wrong answer, as the patient saw it (the version they answered, not today's wording)."""

    answer: Answer
    version: QuestionVersion

    @property
    def chosen(self) -> list[str]:
        return [self.version.choices[i]["text"] for i in self.answer.selected]

    @property
    def right(self) -> list[str]:
        return [c["text"] for c in self.version.choices if c["correct"]]


@dataclass
class KeyPointDetail:
    missed: MissedKeyPoint
    ref: str
    first_miss: MissView
    later_misses: list[MissView]
    entries: list[TeachBack]  # oldest first
    superseded_by: dict[int, TeachBack] = field(default_factory=dict)

    @property
    def latest_entry(self) -> TeachBack | None:
        effective = [e for e in self.entries if e.id not in self.superseded_by]
        return effective[-1] if effective else None


@dataclass
class ModuleDetail:
    result: ModuleResult
    module: Module
    key_points: list[KeyPointDetail]
    content_version: str | None  # a fingerprint of the question versions this patient answered


@dataclass
class AssignmentDetail:
    summary: AssignmentSummary
    modules: list[ModuleDetail]

    def key_point(self, ref: str) -> KeyPointDetail | None:
        return next((k for m in self.modules for k in m.key_points if k.ref == ref), None)


def assignment_detail(assignment: Assignment) -> AssignmentDetail:
    summary = summarize([assignment])[0]
    answers = list(db.session.execute(
        db.select(Answer).where(Answer.assignment_id == assignment.id)
        .options(selectinload(Answer.version)).order_by(Answer.module_id, Answer.step)
    ).scalars())
    entries = list(db.session.execute(
        db.select(TeachBack).where(TeachBack.assignment_id == assignment.id)
        .options(selectinload(TeachBack.recorded_by)).order_by(TeachBack.id)
    ).scalars())
    superseded_by = {e.supersedes_id: e for e in entries if e.supersedes_id is not None}
    missed = {(k.module_id, k.key_point): k for k in summary.readiness.missed}
    modules = []
    for result, link in zip(summary.modules, assignment.modules):
        module_answers = [a for a in answers if a.module_id == result.module_id]
        points = []
        for point in result.progress.key_points:
            miss = missed.get((result.module_id, point.key_point))
            if miss is None:
                continue
            wrong = [MissView(a, a.version) for a in module_answers
                     if not a.correct and a.version.key_point == point.key_point]
            points.append(KeyPointDetail(
                miss, key_point_ref(result.module_id, point.key_point), wrong[0], wrong[1:],
                [e for e in entries if e.module_id == result.module_id and e.key_point == point.key_point],
                superseded_by,
            ))
        fingerprints = sorted({a.version.fingerprint for a in module_answers})
        version = hashlib.sha256("\n".join(fingerprints).encode()).hexdigest()[:8] if fingerprints else None
        modules.append(ModuleDetail(result, link.module, points, version))
    return AssignmentDetail(summary, modules)


def record_teach_back(
    assignment: Assignment, detail: AssignmentDetail, *, ref: str, learner: str, method: str, response: str,
    note: str | None, by: StaffUser, supersedes_id: int | None = None,
) -> TeachBack:
    """Add a teach-back entry for a key point the patient missed first time. A correction names the
    entry it supersedes, which must be that key point's latest entry. Flushes; the caller commits."""
    point = detail.key_point(ref)
    if point is None:
        raise TeachBackError("That key point is not one this patient missed. Reload the page and try again.")
    if learner not in LEARNERS or method not in METHODS or response not in RESPONSES:
        raise TeachBackError("Choose the learner, the method and the response.")
    if supersedes_id is not None:
        latest = point.latest_entry
        if latest is None or latest.id != supersedes_id:
            raise TeachBackError("Only the latest entry of a key point can be corrected; it may have "
                                 "changed meanwhile. Check the entries below and try again.")
    entry = TeachBack(
        assignment_id=assignment.id, module_id=point.missed.module_id, key_point=point.missed.key_point,
        learner=learner, method=method, response=response, note=(note or "").strip() or None,
        recorded_by=by, supersedes_id=supersedes_id,
    )
    db.session.add(entry)
    db.session.flush()
    stats.refresh_assignment(assignment.id)
    return entry
