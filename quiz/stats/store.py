"""The summary tables in the database: keeping them up to date at events, and rebuilding them.

`refresh_assignment` recomputes one assignment's contribution (`contribution.py`) and adds the
difference from what it added last time, in the caller's transaction: upserts that add to counters
(`INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n`), so concurrent updates of the same row
add up instead of overwriting each other. The assignment's own contribution row is locked first
(`FOR UPDATE` on PostgreSQL; SQLite has one writer at a time), so two events of one assignment never
both subtract the same old share.

`answer_recorded` is the answer path's only call: it decides from the module state it is given,
without a query, whether the answer is an event (a module's first answer, its first pass completing,
the module completing) and refreshes only then.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..models import (
    Answer, Assignment, AssignmentModule, Module, Patient, Question, QuestionVersion, StatAssignment, StatChoice,
    StatCompletion, StatContribution, StatItem, StatModule, TeachBack,
)
from ..readiness import TeachBackEntry
from .contribution import (
    COUNTERS, AnswerFact, Contribution, ModuleFacts, add_into, contribution, difference, expand, from_json, to_json,
)

TABLES = {
    "assignment": (StatAssignment, ("period", "day", "unit_id")),
    "completion": (StatCompletion, ("period", "day", "unit_id", "bucket")),
    "module": (StatModule, ("period", "day", "unit_id", "module_id")),
    "item": (StatItem, ("period", "day", "unit_id", "question_version_id")),
    "choice": (StatChoice, ("period", "day", "unit_id", "question_version_id", "choice")),
}


def local_day(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])).date()


# Statements are built once and reused with bound values: on the answer path, building SQL expressions
# costs more than running them.
_STATEMENTS: dict[tuple, object] = {}


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _insert(table):
    return (postgresql.insert if _dialect() == "postgresql" else sqlite.insert)(table)


def _upsert(name: str):
    key = ("upsert", name, _dialect())
    if key not in _STATEMENTS:
        model, keys = TABLES[name]
        table = model.__table__
        statement = _insert(table)
        _STATEMENTS[key] = statement.on_conflict_do_update(
            index_elements=list(keys),
            set_={c: table.c[c] + statement.excluded[c] for c in COUNTERS[name]},
        )
    return _STATEMENTS[key]


def apply(delta: Contribution) -> None:
    """Add every row of `delta` (daily, per unit) to its summary table, and to the weekly and all-unit
    rows it counts in (creating rows as needed)."""
    connection = db.session.connection()
    for name, rows in expand(delta).items():
        if rows:
            keys = TABLES[name][1]
            connection.execute(_upsert(name), [dict(zip(keys, key)) | row for key, row in rows.items()])


# --- Reading one assignment's facts -------------------------------------------------------------------

def _served(module_ids: Iterable[str]) -> dict[str, tuple[tuple[str, str], ...]]:
    """(question id, key point) of the questions patients are asked, per module, in bank order: the
    same questions as `quiz.patient.service.served_questions` (live, current version reviewed), read
    with one plain query because the answer path pays for it."""
    wanted = set(module_ids)
    out: dict[str, list] = {m: [] for m in wanted}
    if not wanted:
        return {}
    if "served" not in _STATEMENTS:
        q, v = Question.__table__.c, QuestionVersion.__table__.c
        _STATEMENTS["served"] = (
            select(q.module_id, q.id, v.key_point)
            .join_from(Question.__table__, QuestionVersion.__table__,
                       (v.question_id == q.id) & (v.fingerprint == q.current_fingerprint))
            .where(q.retired_at.is_(None), v.reviewed_on.is_not(None), q.module_id.in_(bindparam("modules", expanding=True)))
            .order_by(q.module_id, q.position))
    for module_id, question_id, key_point in db.session.connection().execute(
            _STATEMENTS["served"], {"modules": sorted(wanted)}):
        out[module_id].append((question_id, key_point))
    return {m: tuple(q) for m, q in out.items()}


def _fact_statements() -> dict:
    if "facts" not in _STATEMENTS:
        wanted = bindparam("assignment_id")
        _STATEMENTS["facts"] = {
            "assignment": select(Assignment.created_at, Patient.unit_id)
            .join(Patient, Assignment.patient_id == Patient.id).where(Assignment.id == wanted),
            "links": select(Module.id, Module.title, Module.critical)
            .join(AssignmentModule, AssignmentModule.module_id == Module.id)
            .where(AssignmentModule.assignment_id == wanted).order_by(AssignmentModule.position),
            "answers": select(Answer.module_id, Answer.question_id, Answer.question_version_id,
                              QuestionVersion.key_point, Answer.correct, Answer.selected, Answer.created_at)
            .join(QuestionVersion, Answer.question_version_id == QuestionVersion.id)
            .where(Answer.assignment_id == wanted).order_by(Answer.module_id, Answer.step),
            "entries": select(TeachBack.id, TeachBack.module_id, TeachBack.key_point, TeachBack.response,
                              TeachBack.supersedes_id).where(TeachBack.assignment_id == wanted),
        }
    return _STATEMENTS["facts"]


def _facts(assignment_id: int):
    statements, params = _fact_statements(), {"assignment_id": assignment_id}
    run = db.session.execute
    row = run(statements["assignment"], params).one()
    links = run(statements["links"], params).all()
    answers: dict[str, list[AnswerFact]] = defaultdict(list)
    for a in run(statements["answers"], params):
        answers[a.module_id].append(AnswerFact(a.question_id, a.question_version_id, a.key_point, a.correct,
                                               tuple(a.selected), a.created_at))
    entries = [TeachBackEntry(*t) for t in run(statements["entries"], params)]
    served = _served(m.id for m in links)
    modules = [ModuleFacts(m.id, m.title, m.critical, served[m.id], tuple(answers[m.id])) for m in links]
    return row.created_at, row.unit_id, modules, entries


def assignment_contribution(assignment_id: int) -> Contribution:
    created_at, unit_id, modules, entries = _facts(assignment_id)
    return contribution(local_day(created_at), unit_id, created_at, modules, entries)


def refresh_assignment(assignment_id: int) -> None:
    """Bring the summary tables up to date with one assignment (call after its change is flushed)."""
    db.session.flush()
    key = ("contribution", _dialect())
    if key not in _STATEMENTS:
        table = StatContribution.__table__
        _STATEMENTS[key] = (
            _insert(table).values(assignment_id=bindparam("who"), data=[])
            .on_conflict_do_nothing(index_elements=["assignment_id"]),
            select(table.c.data).where(table.c.assignment_id == bindparam("who")).with_for_update(),
            table.update().where(table.c.assignment_id == bindparam("who")).values(data=bindparam("new_data")),
        )
    create, lock, save = _STATEMENTS[key]
    connection, params = db.session.connection(), {"who": assignment_id}
    connection.execute(create, params)
    old = connection.execute(lock, params).scalar_one()  # the lock holder's committed share
    new = assignment_contribution(assignment_id)
    apply(difference(new, from_json(old)))
    connection.execute(save, params | {"new_data": to_json(new)})


def answer_recorded(assignment_id: int, before, after) -> None:
    """The answer path's hook, called in the answer's transaction (not yet committed) with the module's
    state before and after the answer (`quiz.patient.service.ModuleState`: computed, nothing read).
    Refreshes the statistics only when the answer is an event (see `contribution`): the module's first
    answer, the end of its first pass, or its completion."""
    was, now = before.progress, after.progress
    if (not before.answers
            or (all(k.attempted for k in now.key_points) and not all(k.attempted for k in was.key_points))
            or (now.complete and not was.complete)):
        refresh_assignment(assignment_id)


# --- Rebuilding everything from the raw answers ---------------------------------------------------------

def recompute() -> tuple[Contribution, dict[int, Contribution]]:
    """Every assignment's contribution and their sum (daily per-unit rows: `expand` gives what the
    tables hold), from the raw tables (reads answers in one pass)."""
    tz = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
    assignments = db.session.execute(
        select(Assignment.id, Assignment.created_at, Patient.unit_id).join(Patient, Assignment.patient_id == Patient.id)
    ).all()
    links: dict[int, list] = defaultdict(list)
    for link in db.session.execute(
        select(AssignmentModule.assignment_id, Module.id, Module.title, Module.critical)
        .join(Module, AssignmentModule.module_id == Module.id).order_by(AssignmentModule.assignment_id,
                                                                         AssignmentModule.position)
    ):
        links[link.assignment_id].append(link)
    served = _served({link.id for rows in links.values() for link in rows})
    key_points = dict(db.session.execute(select(QuestionVersion.id, QuestionVersion.key_point)).all())
    answers: dict[int, dict[str, list[AnswerFact]]] = defaultdict(lambda: defaultdict(list))
    for a in db.session.execute(
        select(Answer.assignment_id, Answer.module_id, Answer.question_id, Answer.question_version_id,
               Answer.correct, Answer.selected, Answer.created_at)
        .order_by(Answer.assignment_id, Answer.module_id, Answer.step)
        .execution_options(yield_per=20000)
    ):
        answers[a.assignment_id][a.module_id].append(AnswerFact(
            a.question_id, a.question_version_id, key_points[a.question_version_id], a.correct,
            tuple(a.selected), a.created_at))
    entries: dict[int, list] = defaultdict(list)
    for t in db.session.execute(select(TeachBack.id, TeachBack.assignment_id, TeachBack.module_id,
                                       TeachBack.key_point, TeachBack.response, TeachBack.supersedes_id)):
        entries[t.assignment_id].append(TeachBackEntry(t.id, t.module_id, t.key_point, t.response, t.supersedes_id))
    total: Contribution = {}
    each: dict[int, Contribution] = {}
    for a in assignments:
        mine = answers.pop(a.id, {})
        modules = [ModuleFacts(m.id, m.title, m.critical, served[m.id], tuple(mine.get(m.id, ())))
                   for m in links.get(a.id, [])]
        share = contribution(a.created_at.astimezone(tz).date(), a.unit_id, a.created_at, modules,
                             entries.get(a.id, []))
        each[a.id] = share
        add_into(total, share)
    return total, each


def rebuild() -> Contribution:
    """Empty the summary tables and fill them again from the raw answers. The caller commits (one
    transaction: readers see the old figures until then)."""
    total, each = recompute()
    for model, _ in TABLES.values():
        db.session.execute(delete(model))
    db.session.execute(delete(StatContribution))
    apply(total)
    rows = [{"assignment_id": a, "data": to_json(c)} for a, c in each.items()]
    for start in range(0, len(rows), 5000):
        db.session.execute(StatContribution.__table__.insert(), rows[start:start + 5000])
    return total


def stored_tables() -> Contribution:
    """The summary tables as they are, in the shape of a contribution (rows of zeros left out)."""
    out: Contribution = {}
    for name, (model, keys) in TABLES.items():
        table = model.__table__
        for row in db.session.execute(select(table)).mappings():
            counters = {c: row[c] for c in COUNTERS[name]}
            if any(counters.values()):
                out.setdefault(name, {})[tuple(row[k] for k in keys)] = counters
    return out


def without_zero_rows(value: Contribution) -> Contribution:
    return {t: {k: r for k, r in rows.items() if any(r.values())} for t, rows in value.items()
            if any(any(r.values()) for r in rows.values())}
