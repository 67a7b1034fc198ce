"""What one assignment adds to the summary tables, as a pure function of its data.

The summary tables hold sums over assignments. Each assignment's share (its *contribution*) is
computed here from its modules, answers and teach-back entries; the store keeps the share it last
added, so an update adds (new − old) and a rebuild adds every share from nothing: both paths run this
same function, which is what makes "incremental equals recomputed" provable.

A contribution only changes at an *event*: an assignment is made or its modules change, a module's
first answer (started), a module's first pass completing (first tries are then final), a module
completing (tries to mastery are then final), a teach-back entry (ready for discharge). Between events
it is constant, so updating only at events loses nothing.

Everything is dated by the day the assignment was made (a cohort): "of the assignments made in these
weeks, how many were completed, how did their first tries go". Counts therefore never move between
days, and a date filter means one thing on every figure.

Every row is kept per day (period "d") and per week (period "w", dated by its Monday), for its unit
and again for all units together (unit 0, `ALL_UNITS`). A date range reads whole weeks from the weekly
rows and only the days at its two ends from the daily rows, of one unit or of the sum over all: a page
adds at most one row per week and 12 days' rows per key, however full the tables are.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..grading import AnswerRecord, module_progress
from ..readiness import ModuleResult, TeachBackEntry, readiness
from .figures import bucket_of

# table -> counter columns. Keys start with (period, day, unit): assignment (period, day, unit);
# completion (..., bucket); module (..., module); item (..., version); choice (..., version, choice).
COUNTERS = {
    "assignment": ("made", "started", "completed", "ready"),
    "completion": ("n",),
    "module": ("assigned", "started", "first_pass", "completed", "ft_correct", "ft_total"),
    "item": ("n", "sum_x", "sum_y", "sum_xy", "sum_xx", "sum_yy", "mastered", "tries"),
    "choice": ("n",),
}


@dataclass(frozen=True)
class AnswerFact:
    question_id: str
    version_id: int
    key_point: str  # of the version the patient saw
    correct: bool
    selected: tuple[int, ...]
    at: datetime


@dataclass(frozen=True)
class ModuleFacts:
    module_id: str
    title: str
    critical: bool
    questions: tuple[tuple[str, str], ...]  # served (question id, key point), bank order
    answers: tuple[AnswerFact, ...]          # in step order


Contribution = dict[str, dict[tuple, dict[str, int]]]


PERIODS = ("d", "w")
ALL_UNITS = 0  # the unit id of the rows summed over every unit


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _bump(out: Contribution, table: str, key: tuple, **values: int) -> None:
    """Add `values` to the daily row `key` = (day, unit, ...) of `table` (see `expand` for the others)."""
    row = out.setdefault(table, {}).setdefault(("d",) + key, dict.fromkeys(COUNTERS[table], 0))
    for name, value in values.items():
        row[name] += value


def expand(value: Contribution) -> Contribution:
    """Daily per-unit rows plus the rows they add to: the week's, and both again for all units. Shares
    are computed and stored as daily per-unit rows only; the tables get all four."""
    out: Contribution = {}
    for table, rows in value.items():
        target = out.setdefault(table, {})
        for (period, day, unit, *rest), row in rows.items():
            for key in (("d", day, unit), ("w", monday(day), unit), ("d", day, ALL_UNITS), ("w", monday(day), ALL_UNITS)):
                into = target.setdefault(key + tuple(rest), dict.fromkeys(COUNTERS[table], 0))
                for name, count in row.items():
                    into[name] += count
    return out


def contribution(day: date, unit_id: int, created_at: datetime, modules: Sequence[ModuleFacts],
                 entries: Sequence[TeachBackEntry]) -> Contribution:
    out: Contribution = {}
    _bump(out, "assignment", (day, unit_id), made=1)
    results = []
    finished_at: list[datetime | None] = []
    for module in modules:
        records = [AnswerRecord(a.question_id, a.key_point, a.correct) for a in module.answers]
        progress = module_progress(module.questions, records)
        results.append(ModuleResult(module.module_id, module.title, module.critical, progress))
        mkey = (day, unit_id, module.module_id)
        _bump(out, "module", mkey, assigned=1, started=int(progress.started))
        attempts: dict[str, list[AnswerFact]] = {k.key_point: [] for k in progress.key_points}
        for answer in module.answers:
            if answer.key_point in attempts:
                attempts[answer.key_point].append(answer)
        first_pass = bool(attempts) and all(attempts.values())
        if first_pass:
            firsts = [tries[0] for tries in attempts.values()]
            total = sum(a.correct for a in firsts)
            _bump(out, "module", mkey, first_pass=1, ft_correct=total, ft_total=len(firsts))
            for first in firsts:
                x = int(first.correct)
                y = total - x
                ikey = (day, unit_id, first.version_id)
                _bump(out, "item", ikey, n=1, sum_x=x, sum_y=y, sum_xy=x * y, sum_xx=x * x, sum_yy=y * y)
                for choice in first.selected:
                    _bump(out, "choice", (day, unit_id, first.version_id, choice), n=1)
        if progress.complete:
            _bump(out, "module", mkey, completed=1)
            for tries in attempts.values():
                taken = next(i for i, a in enumerate(tries) if a.correct) + 1
                _bump(out, "item", (day, unit_id, tries[0].version_id), mastered=1, tries=taken)
            finished_at.append(max(next(a for a in tries if a.correct).at for tries in attempts.values()))
        else:
            finished_at.append(None)
    if modules:
        started = any(r.progress.started for r in results)
        completed = all(at is not None for at in finished_at)
        ready = readiness(results, entries).ready
        _bump(out, "assignment", (day, unit_id), started=int(started), completed=int(completed),
              ready=int(ready))
        if completed:
            minutes = (max(finished_at) - created_at).total_seconds() / 60
            _bump(out, "completion", (day, unit_id, bucket_of(max(minutes, 0.0))), n=1)
    return out


def difference(new: Contribution, old: Contribution) -> Contribution:
    """new − old, row by row, without rows that do not change."""
    out: Contribution = {}
    for table in COUNTERS:
        keys = set(new.get(table, {})) | set(old.get(table, {}))
        for key in keys:
            a = new.get(table, {}).get(key, {})
            b = old.get(table, {}).get(key, {})
            delta = {c: a.get(c, 0) - b.get(c, 0) for c in COUNTERS[table]}
            if any(delta.values()):
                out.setdefault(table, {})[key] = delta
    return out


def to_json(value: Contribution) -> list:
    return [[table, [k.isoformat() if isinstance(k, date) else k for k in key], row]
            for table, rows in value.items() for key, row in rows.items()]


def from_json(data: list) -> Contribution:
    out: Contribution = {}
    for table, key, row in data or []:
        key = list(key)
        key[1] = date.fromisoformat(key[1])
        out.setdefault(table, {})[tuple(key)] = dict(row)
    return out


def add_into(total: Contribution, part: Contribution) -> None:
    for table, rows in part.items():
        for key, row in rows.items():
            target = total.setdefault(table, {}).setdefault(key, dict.fromkeys(COUNTERS[table], 0))
            for name, value in row.items():
                target[name] += value
