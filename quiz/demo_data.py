"""Synthetic data for trying the administrator reports and measuring them at scale
(`flask --app wsgi demo generate --patients N [--seed S]`; never in production).

Realistic enough that the statistics mean something: units and nurses, one assignment per patient
spread over months, each with the critical modules and some optional ones; answers drawn from an item
response model, P(right) = 1 / (1 + e^(−1.7 (ability − difficulty))) with a per-patient ability and a
per-question difficulty (so discrimination is not trivial), re-learning after a miss (each miss
raises the chance on that key point), wrong choices drawn with per-question weights (so some
distractors attract more than others), patients who stop part-way, and teach-back entries for the key
points missed first time. The questions are asked in the order the quiz itself asks them
(`grading.module_progress`).

Deterministic: the same seed and the same end day (`--until`, default today) give the same rows.
Rows are inserted in batches with core `INSERT`s (executemany). Each synthetic assignment's share of
the summary tables is computed as it is made, by the same function the live updates and the rebuild
use (`quiz.stats.contribution`), and added at the end: no second pass over a million answers.
Synthetic assignments have no usable access code (their code hash is not a code's).
"""
from __future__ import annotations

import math
import random
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, insert, select, text

from .extensions import db
from .grading import AnswerRecord, module_progress
from .models import (
    Answer, Assignment, AssignmentModule, Module, Patient, StaffUser, StatContribution, TeachBack, Unit,
)
from .passwords import hash_password
from .readiness import TeachBackEntry
from .stats.contribution import AnswerFact, Contribution, ModuleFacts, add_into, contribution, to_json

UNITS = ("Neurology", "Neuro-rehabilitation", "Spinal injuries", "Medicine for older people",
         "Orthopaedics", "Multiple sclerosis day unit")
NURSES_PER_UNIT = 3
BATCH = 10_000


class DemoDataError(Exception):
    pass


@dataclass
class Generated:
    patients: int
    answers: int
    teach_back: int


def _served():
    from .patient.service import served_questions

    by_module: dict[str, list] = {}
    for question in served_questions():
        if question.module.retired_at is None:
            by_module.setdefault(question.module_id, []).append(question)
    return by_module


def _units_and_nurses() -> dict[int, list[int]]:
    """The units and their nurses, created once (running again reuses them)."""
    nurses: dict[int, list[int]] = {}
    unusable = None
    for u, name in enumerate(UNITS):
        unit = db.session.execute(select(Unit).where(Unit.name == name)).scalar_one_or_none()
        if unit is None:
            unit = Unit(name=name)
            db.session.add(unit)
            db.session.flush()
        ids = []
        for k in range(NURSES_PER_UNIT):
            username = f"synthetic-nurse-{u + 1}-{k + 1}"
            user = db.session.execute(select(StaffUser).where(StaffUser.username == username)).scalar_one_or_none()
            if user is None:
                # Nobody knows this password: synthetic nurses cannot sign in.
                unusable = unusable or hash_password(secrets.token_urlsafe(32))
                user = StaffUser(username=username, display_name=f"Synthetic nurse {u + 1}.{k + 1}",
                                 role="nurse", password_hash=unusable, units=[unit])
                db.session.add(user)
                db.session.flush()
            ids.append(user.id)
        nurses[unit.id] = ids
    return nurses


def _next_id(model) -> int:
    return (db.session.execute(select(func.max(model.id))).scalar() or 0) + 1


def _fix_sequences(*models) -> None:
    """Rows were inserted with explicit ids: move PostgreSQL's sequences past them."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for model in models:
        table = model.__tablename__
        db.session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"))


def _insert(model_or_table, rows: list[dict]) -> None:
    table = getattr(model_or_table, "__table__", model_or_table)
    for start in range(0, len(rows), BATCH):
        db.session.execute(insert(table), rows[start:start + BATCH])


def _sigmoid(value: float) -> float:
    return 1 / (1 + math.exp(-value))


def generate(patients: int, seed: int = 1, until: date | None = None, days: int = 180) -> Generated:
    """Add `patients` synthetic patients (one assignment each) made over the `days` days up to
    `until`. The caller commits."""
    from .stats.store import apply, local_day

    if patients < 1:
        raise DemoDataError("--patients must be at least 1")
    rng = random.Random(seed)
    until = until or datetime.now(timezone.utc).date()
    end = datetime.combine(until, time(18), tzinfo=timezone.utc)
    marker = f"synthetic-{seed}-{until.isoformat()}-"
    if db.session.execute(select(Assignment.id).where(Assignment.code_hash.like(marker + "%")).limit(1)).first():
        raise DemoDataError(f"data for seed {seed} up to {until} is already there; pick another --seed")
    by_module = _served()
    modules = db.session.execute(select(Module).where(Module.id.in_(by_module)).order_by(Module.position)).scalars().all()
    if not modules:
        raise DemoDataError("Load the question bank first: flask --app wsgi questions load")
    critical = [m.id for m in modules if m.critical]
    optional = [m.id for m in modules if not m.critical]
    nurses = _units_and_nurses()
    unit_ids = sorted(nurses)
    unit_weights = [rng.uniform(0.5, 2.0) for _ in unit_ids]  # some units are busier
    # Per question: difficulty, and how attractive each wrong choice is.
    difficulty: dict[str, float] = {}
    lure: dict[str, list[float]] = {}
    for questions in by_module.values():
        for q in questions:
            difficulty[q.id] = rng.gauss(-1.0, 1.0)
            lure[q.id] = [rng.random() ** 2 + 0.05 for _ in q.current_version.choices]

    patient_id, assignment_id, answer_id, entry_id = (_next_id(Patient), _next_id(Assignment),
                                                      _next_id(Answer), _next_id(TeachBack))
    first_answer, first_entry = answer_id, entry_id
    patient_rows, assignment_rows, link_rows, answer_rows, entry_rows = [], [], [], [], []
    total: Contribution = {}
    share_rows: list[dict] = []
    span = days * 86400
    for p in range(patients):
        unit_id = rng.choices(unit_ids, unit_weights)[0]
        made = end - timedelta(seconds=rng.uniform(0, span))
        ability = rng.gauss(0.0, 1.0)
        chosen = critical + sorted(rng.sample(optional, rng.randint(0, min(2, len(optional)))),
                                   key=[m.id for m in modules].index) or [modules[0].id]
        nurse_id = rng.choice(nurses[unit_id])
        patient_rows.append(dict(id=patient_id, label=f"Synthetic {p + 1}", unit_id=unit_id, created_at=made,
                                 created_by_id=nurse_id))
        assignment_rows.append(dict(id=assignment_id, patient_id=patient_id, code_hash=f"{marker}{p}",
                                    code_nonce=None, created_at=made, updated_at=made, created_by_id=nurse_id,
                                    expires_at=made + timedelta(days=14), revoked_at=None, is_demo=False))
        moment = made + timedelta(hours=rng.expovariate(1 / 6))
        engaged = rng.random() < 0.9
        facts: list[ModuleFacts] = []
        entries: list[TeachBackEntry] = []
        for position, module_id in enumerate(chosen):
            link_rows.append(dict(assignment_id=assignment_id, module_id=module_id, position=position))
            questions = by_module[module_id]
            pairs = [(q.id, q.current_version.key_point) for q in questions]
            module = next(m for m in modules if m.id == module_id)
            if not engaged:
                facts.append(ModuleFacts(module_id, module.title, module.critical, tuple(pairs), ()))
                continue
            module_facts: list[AnswerFact] = []
            by_id = {q.id: q for q in questions}
            records: list[AnswerRecord] = []
            misses: dict[str, int] = {}
            step = 0
            while True:
                progress = module_progress(pairs, records)
                if progress.next_question_id is None or step >= 40 or rng.random() < 0.015:
                    break
                question = by_id[progress.next_question_id]
                version = question.current_version
                key_point = version.key_point
                chance = _sigmoid(1.7 * (ability - difficulty[question.id]) + 1.2 * misses.get(key_point, 0))
                right = [i for i, c in enumerate(version.choices) if c["correct"]]
                if rng.random() < chance:
                    selected, correct = right, True
                else:
                    wrong = [i for i, c in enumerate(version.choices) if not c["correct"]]
                    pick = rng.choices(wrong, [lure[question.id][i] for i in wrong])[0]
                    if version.type == "multiple":
                        selected = sorted(set(right) ^ {pick})
                        if set(selected) == set(right) or not selected:
                            selected = sorted(set(right) | {pick})
                    else:
                        selected = [pick]
                    correct = False
                    misses[key_point] = misses.get(key_point, 0) + 1
                moment += timedelta(seconds=rng.uniform(20, 120))
                answer_rows.append(dict(id=answer_id, assignment_id=assignment_id, module_id=module_id, step=step,
                                        question_id=question.id, question_version_id=version.id,
                                        selected=selected, correct=correct, created_at=moment,
                                        acknowledged_at=moment + timedelta(seconds=rng.uniform(5, 40))))
                answer_id += 1
                step += 1
                records.append(AnswerRecord(question.id, key_point, correct))
                module_facts.append(AnswerFact(question.id, version.id, key_point, correct, tuple(selected), moment))
            facts.append(ModuleFacts(module_id, module.title, module.critical, tuple(pairs), tuple(module_facts)))
            for point in module_progress(pairs, records).key_points:
                if point.first_try_correct is False and rng.random() < 0.7:
                    response = rng.choices(["verbalizes", "demonstrates", "needs_reinforcement", "no_evidence"],
                                           [0.65, 0.2, 0.12, 0.03])[0]
                    entry_rows.append(dict(id=entry_id, assignment_id=assignment_id, module_id=module_id,
                                           key_point=point.key_point, learner="patient",
                                           method=rng.choice(["teach_back", "explanation", "demonstration"]),
                                           response=response, note=None, recorded_by_id=nurse_id,
                                           recorded_at=moment + timedelta(hours=rng.uniform(0.5, 8)),
                                           supersedes_id=None))
                    entries.append(TeachBackEntry(entry_id, module_id, point.key_point, response))
                    entry_id += 1
            moment += timedelta(minutes=rng.expovariate(1 / 90))
        share = contribution(local_day(made), unit_id, made, facts, entries)
        add_into(total, share)
        share_rows.append(dict(assignment_id=assignment_id, data=to_json(share)))
        patient_id += 1
        assignment_id += 1
        if len(answer_rows) >= 5 * BATCH:  # keep memory flat at a million answers
            _flush(patient_rows, assignment_rows, link_rows, answer_rows, entry_rows, share_rows)
    totals = Generated(patients, answer_id - first_answer, entry_id - first_entry)
    _flush(patient_rows, assignment_rows, link_rows, answer_rows, entry_rows, share_rows)
    _fix_sequences(Patient, Assignment, Answer, TeachBack)
    apply(total)
    return totals


def _flush(patient_rows, assignment_rows, link_rows, answer_rows, entry_rows, share_rows) -> None:
    for model, rows in ((Patient, patient_rows), (Assignment, assignment_rows), (AssignmentModule, link_rows),
                        (Answer, answer_rows), (TeachBack, entry_rows), (StatContribution, share_rows)):
        _insert(model, rows)
        rows.clear()
