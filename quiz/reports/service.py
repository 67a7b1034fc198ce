"""What the report pages show, read from the summary tables (quiz.stats): every query adds a bounded
number of rows (days in the range × units × modules or question versions), never answers. Figures are
computed by the pure functions of `quiz.stats.figures`.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    Module, Question, QuestionVersion, StatAssignment, StatChoice, StatCompletion, StatItem, StatModule, Unit,
)
from ..stats.figures import (
    Flag, ItemSums, choice_shares, discrimination, facility, flags, mean_tries_to_mastery,
    median_from_histogram, share,
)

DEFAULT_WEEKS = 12
MOST_MISSED = 10


@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    unit_id: int | None = None
    module_id: str | None = None

    def where(self, model, module: bool = False) -> list:
        clauses = [model.day >= self.start, model.day <= self.end]
        if self.unit_id is not None:
            clauses.append(model.unit_id == self.unit_id)
        if module and self.module_id is not None:
            clauses.append(model.module_id == self.module_id)
        return clauses

    def args(self, **extra: str) -> dict[str, str]:
        """As query-string arguments (the CSV links carry the current filters), plus `extra`."""
        out = extra | {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.unit_id is not None:
            out["unit"] = str(self.unit_id)
        if self.module_id is not None:
            out["module"] = self.module_id
        return out


def today() -> date:
    return datetime.now(ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])).date()


def default_filters() -> Filters:
    end = today()
    return Filters(end - timedelta(weeks=DEFAULT_WEEKS) + timedelta(days=1), end)


def units() -> list[Unit]:
    return list(db.session.execute(select(Unit).order_by(Unit.name)).scalars())


def modules() -> list[Module]:
    return list(db.session.execute(select(Module).order_by(Module.position, Module.id)).scalars())


# --- Dashboard -------------------------------------------------------------------------------------------

@dataclass
class ModuleRow:
    module_id: str
    title: str
    assigned: int
    started: int
    first_pass: int
    completed: int
    ft_correct: int
    ft_total: int

    @property
    def first_try_score(self) -> float | None:
        return share(self.ft_correct, self.ft_total)

    @property
    def mastery_rate(self) -> float | None:
        """Of the patients who started the module, the share who mastered every key point."""
        return share(self.completed, self.started)


@dataclass
class MissedRow:
    module_title: str
    key_point: str
    first_tries: int
    misses: int

    @property
    def miss_share(self) -> float | None:
        return share(self.misses, self.first_tries)


@dataclass
class WeekRow:
    week: date  # its Monday
    made: int = 0
    completed: int = 0
    ft_correct: int = 0
    ft_total: int = 0

    @property
    def first_try_score(self) -> float | None:
        return share(self.ft_correct, self.ft_total)


@dataclass
class Dashboard:
    filters: Filters
    made: int
    started: int
    completed: int
    ready: int
    median_minutes: float | None
    modules: list[ModuleRow]
    missed: list[MissedRow]
    weeks: list[WeekRow]

    @property
    def completion_rate(self) -> float | None:
        return share(self.completed, self.made)

    @property
    def start_rate(self) -> float | None:
        return share(self.started, self.made)

    @property
    def ready_rate(self) -> float | None:
        return share(self.ready, self.made)


def _sum(*columns):
    return [func.coalesce(func.sum(c), 0) for c in columns]


def dashboard(filters: Filters) -> Dashboard:
    made, started, completed, ready = db.session.execute(
        select(*_sum(StatAssignment.made, StatAssignment.started, StatAssignment.completed, StatAssignment.ready))
        .where(*filters.where(StatAssignment))
    ).one()
    histogram = dict(db.session.execute(
        select(StatCompletion.bucket, func.sum(StatCompletion.n)).where(*filters.where(StatCompletion))
        .group_by(StatCompletion.bucket)
    ).all())
    titles = {m.id: m.title for m in modules()}
    order = {m.id: i for i, m in enumerate(modules())}
    module_rows = [
        ModuleRow(r.module_id, titles.get(r.module_id, r.module_id), *map(int, r[1:]))
        for r in db.session.execute(
            select(StatModule.module_id, *_sum(StatModule.assigned, StatModule.started, StatModule.first_pass,
                                               StatModule.completed, StatModule.ft_correct, StatModule.ft_total))
            .where(*filters.where(StatModule, module=True)).group_by(StatModule.module_id)
        )
    ]
    module_rows = [r for r in module_rows if r.assigned or r.started]
    module_rows.sort(key=lambda r: order.get(r.module_id, len(order)))
    return Dashboard(filters, int(made), int(started), int(completed), int(ready),
                     median_from_histogram({int(b): int(n) for b, n in histogram.items()}),
                     module_rows, most_missed(filters), weekly(filters))


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weekly(filters: Filters) -> list[WeekRow]:
    """Every week of the range (empty weeks too: a gap in a trend is information)."""
    weeks: dict[date, WeekRow] = {}
    monday = _monday(filters.start)
    while monday <= filters.end:
        weeks[monday] = WeekRow(monday)
        monday += timedelta(weeks=1)
    for day, made, completed in db.session.execute(
        select(StatAssignment.day, *_sum(StatAssignment.made, StatAssignment.completed))
        .where(*filters.where(StatAssignment)).group_by(StatAssignment.day)
    ):
        row = weeks[_monday(day)]
        row.made += int(made)
        row.completed += int(completed)
    for day, correct, total in db.session.execute(
        select(StatModule.day, *_sum(StatModule.ft_correct, StatModule.ft_total))
        .where(*filters.where(StatModule, module=True)).group_by(StatModule.day)
    ):
        row = weeks[_monday(day)]
        row.ft_correct += int(correct)
        row.ft_total += int(total)
    return list(weeks.values())


# --- Item analysis ----------------------------------------------------------------------------------------

@dataclass
class ChoiceRow:
    text: str
    correct: bool
    count: int
    share: float | None


@dataclass
class ItemRow:
    version: QuestionVersion
    number: int          # 1 for a question's first version, 2 for the next...
    current: bool
    module_title: str
    sums: ItemSums
    choices: list[ChoiceRow] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)

    @property
    def question_id(self) -> str:
        return self.version.question_id

    @property
    def facility(self) -> float | None:
        return facility(self.sums)

    @property
    def discrimination(self) -> float | None:
        return discrimination(self.sums)

    @property
    def mean_tries(self) -> float | None:
        return mean_tries_to_mastery(self.sums)


def _item_sums(filters: Filters, version_ids=None) -> dict[int, ItemSums]:
    where = filters.where(StatItem)
    if version_ids is not None:
        where.append(StatItem.question_version_id.in_(version_ids))
    sums: dict[int, ItemSums] = {}
    for r in db.session.execute(
        select(StatItem.question_version_id, *_sum(StatItem.n, StatItem.sum_x, StatItem.sum_y, StatItem.sum_xy,
                                                   StatItem.sum_xx, StatItem.sum_yy, StatItem.mastered,
                                                   StatItem.tries))
        .where(*where).group_by(StatItem.question_version_id)
    ):
        sums[r[0]] = ItemSums(*map(int, r[1:]))
    cwhere = filters.where(StatChoice)
    if version_ids is not None:
        cwhere.append(StatChoice.question_version_id.in_(version_ids))
    for version_id, choice, n in db.session.execute(
        select(StatChoice.question_version_id, StatChoice.choice, func.sum(StatChoice.n))
        .where(*cwhere).group_by(StatChoice.question_version_id, StatChoice.choice)
    ):
        sums.setdefault(version_id, ItemSums()).choices[int(choice)] = int(n)
    return sums


def _item_row(version: QuestionVersion, number: int, sums: ItemSums | None) -> ItemRow:
    sums = sums or ItemSums()
    texts = [c["text"] for c in version.choices]
    correct = [bool(c["correct"]) for c in version.choices]
    shares = choice_shares(sums, len(texts))
    row = ItemRow(version, number, version.fingerprint == version.question.current_fingerprint,
                  version.question.module.title, sums)
    row.choices = [ChoiceRow(t, ok, sums.choices.get(i, 0), s) for i, (t, ok, s) in enumerate(zip(texts, correct, shares))]
    row.flags = flags(sums, correct, texts)
    return row


def _versions(question_id: str | None = None, module_id: str | None = None) -> list[QuestionVersion]:
    query = (select(QuestionVersion).join(Question)
             .options(selectinload(QuestionVersion.question).selectinload(Question.module))
             .order_by(Question.module_id, Question.position, Question.id, QuestionVersion.id))
    if question_id is not None:
        query = query.where(QuestionVersion.question_id == question_id)
    if module_id is not None:
        query = query.where(Question.module_id == module_id)
    return list(db.session.execute(query).scalars())


def items(filters: Filters, flagged_only: bool = False) -> list[ItemRow]:
    """One row per question version that was answered in the range (a version nobody answered has no
    statistics to show), in bank order."""
    sums = _item_sums(filters)
    rows: list[ItemRow] = []
    numbers: dict[str, int] = defaultdict(int)
    order = {m.id: i for i, m in enumerate(modules())}
    for version in _versions(module_id=filters.module_id):
        numbers[version.question_id] += 1
        if version.id in sums and sums[version.id].n:
            rows.append(_item_row(version, numbers[version.question_id], sums[version.id]))
    rows.sort(key=lambda r: (order.get(r.version.question.module_id, 0), r.version.question.position,
                             r.question_id, r.number))
    if flagged_only:
        rows = [r for r in rows if r.flags]
    return rows


def most_missed(filters: Filters) -> list[MissedRow]:
    """Key points by share missed on the first try (versions sharing a key point sentence add up)."""
    sums = _item_sums(filters)
    totals: dict[tuple[str, str], list[int]] = {}
    for version in _versions(module_id=filters.module_id):
        found = sums.get(version.id)
        if found and found.n:
            entry = totals.setdefault((version.question.module.title, version.key_point), [0, 0])
            entry[0] += found.n
            entry[1] += found.n - found.sum_x
    rows = [MissedRow(title, key_point, n, misses) for (title, key_point), (n, misses) in totals.items() if misses]
    rows.sort(key=lambda r: (-(r.miss_share or 0), -r.misses, r.key_point))
    return rows[:MOST_MISSED]


@dataclass
class QuestionReport:
    question: Question
    rows: list[ItemRow]  # every version, oldest first

    @property
    def current(self) -> ItemRow:
        return next(r for r in self.rows if r.current)

    @property
    def earlier(self) -> list[ItemRow]:
        return [r for r in self.rows if not r.current]


def question_report(question_id: str, filters: Filters) -> QuestionReport | None:
    versions = _versions(question_id=question_id)
    if not versions:
        return None
    sums = _item_sums(filters, [v.id for v in versions])
    rows = [_item_row(v, i + 1, sums.get(v.id)) for i, v in enumerate(versions)]
    if not any(r.current for r in rows):
        return None
    return QuestionReport(versions[0].question, rows)
