"""What the report pages show, read from the summary tables (quiz.stats): every query adds a bounded
number of rows (days in the range × units × modules or question versions), never answers. Figures are
computed by the pure functions of `quiz.stats.figures`.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, g
from sqlalchemy import and_, bindparam, func, or_, select

from ..extensions import db
from ..models import (
    Module, Question, QuestionVersion, StatAssignment, StatChoice, StatCompletion, StatItem, StatModule, Unit,
)
from ..stats.contribution import ALL_UNITS
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

    def params(self) -> dict:
        """The range as whole weeks (read from the weekly rows) and the days before and after them
        (read from the daily rows): at most 6 + 6 daily rows per unit and key, however long the range."""
        first = self.start + timedelta(days=(7 - self.start.weekday()) % 7)  # first Monday in range
        last = self.end - timedelta(days=(self.end.weekday() + 1) % 7)      # last Sunday in range
        if first + timedelta(days=6) <= last:
            weeks = (first, last - timedelta(days=6))
            days = ((self.start, first - timedelta(days=1)), (last + timedelta(days=1), self.end))
        else:  # no whole week inside: days only
            nothing = (date.max, date.min)
            weeks = nothing
            days = ((self.start, self.end), nothing)
        return {"week_from": weeks[0], "week_to": weeks[1], "head_from": days[0][0], "head_to": days[0][1],
                "tail_from": days[1][0], "tail_to": days[1][1],
                "unit": ALL_UNITS if self.unit_id is None else self.unit_id, "module": self.module_id}

    def args(self, **extra: str) -> dict[str, str]:
        """As query-string arguments (the CSV links carry the current filters), plus `extra`."""
        out = extra | {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.unit_id is not None:
            out["unit"] = str(self.unit_id)
        if self.module_id is not None:
            out["module"] = self.module_id
        return out


# Statements are built once per shape (which filters are set) and reused with bound values: a report
# page runs a handful of small aggregate queries, and building SQL expressions on every request would
# cost more than running them.
_STATEMENTS: dict[tuple, object] = {}


def _statement(name: str, model, columns: tuple, group_by: tuple, filters: Filters, module: bool = False,
               extra_where=None):
    key = (name, filters.unit_id is not None, module and filters.module_id is not None)
    if key not in _STATEMENTS:
        model = model.__table__.c
        columns = tuple(model[c.key] for c in columns)
        group_by = tuple(model[c.key] for c in group_by)
        day, period = model.day, model.period
        # Three flat branches, each a range of the primary key's (period, day) prefix, so SQLite and
        # PostgreSQL read only those index ranges.
        where = [or_(
            and_(period == "w", day >= bindparam("week_from"), day <= bindparam("week_to")),
            and_(period == "d", day >= bindparam("head_from"), day <= bindparam("head_to")),
            and_(period == "d", day >= bindparam("tail_from"), day <= bindparam("tail_to")),
        )]
        # No unit chosen: the rows summed over all units (unit 0), a sixth of the rows to add.
        where.append(model.unit_id == bindparam("unit"))
        if key[2]:
            where.append(model.module_id == bindparam("module"))
        if extra_where is not None:
            where.append(extra_where)
        sums = [func.coalesce(func.sum(c), 0) for c in columns]
        _STATEMENTS[key] = select(*group_by, *sums).where(*where).group_by(*group_by) if group_by \
            else select(*sums).where(*where)
    return _STATEMENTS[key]


def _rows(name: str, model, columns: tuple, group_by: tuple, filters: Filters, module: bool = False):
    statement = _statement(name, model, columns, group_by, filters, module)
    # Plain Core on the session's connection: these read summary rows, no ORM objects.
    return db.session.connection().execute(statement, filters.params()).all()


def today() -> date:
    return datetime.now(ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])).date()


def default_filters() -> Filters:
    """The last 12 weeks, this one included (Monday to today)."""
    end = today()
    return Filters(end - timedelta(days=end.weekday(), weeks=DEFAULT_WEEKS - 1), end)


@dataclass(frozen=True)
class Choice:
    id: str
    title: str


def units() -> list[Choice]:
    return [Choice(str(i), n) for i, n in db.session.execute(select(Unit.id, Unit.name).order_by(Unit.name))]


def modules() -> list[Choice]:
    if "report_modules" not in g:  # the filter form and the tables of one request read it once
        g.report_modules = [Choice(i, t) for i, t in db.session.execute(
            select(Module.id, Module.title).order_by(Module.position, Module.id))]
    return g.report_modules


@dataclass(frozen=True)
class VersionInfo:
    """What the reports need of a question version (read with one plain query, not as ORM objects)."""

    id: int
    question_id: str
    module_id: str
    module_title: str
    number: int        # 1 for a question's first version, 2 for the next...
    current: bool
    key_point: str
    prompt: str
    choices: tuple[tuple[str, bool], ...]


def versions(module_id: str | None = None) -> list[VersionInfo]:
    """Every question version in bank order (module, question, version), read once per request."""
    if "report_versions" not in g:
        g.report_versions = _versions()
    return [v for v in g.report_versions if module_id is None or v.module_id == module_id]


def _versions() -> list[VersionInfo]:
    query = (select(QuestionVersion.id, QuestionVersion.question_id, Question.module_id, Module.title,
                    QuestionVersion.fingerprint == Question.current_fingerprint, QuestionVersion.key_point,
                    QuestionVersion.prompt, QuestionVersion.choices)
             .join(Question, QuestionVersion.question_id == Question.id).join(Module, Question.module_id == Module.id)
             .order_by(Module.position, Module.id, Question.position, Question.id, QuestionVersion.id))
    out: list[VersionInfo] = []
    numbers: dict[str, int] = defaultdict(int)
    for row in db.session.execute(query):
        numbers[row[1]] += 1
        out.append(VersionInfo(row[0], row[1], row[2], row[3], numbers[row[1]], bool(row[4]), row[5], row[6],
                               tuple((c["text"], bool(c["correct"])) for c in row[7])))
    return out


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


A, M = StatAssignment, StatModule


# The dashboard's figures come from two grouped-by-day queries (assignments, modules) plus the
# completion histogram and the item sums: few round trips, since on PostgreSQL each one costs more than
# the rows it reads.

def _assignment_days(filters: Filters):
    return _rows("assignments-by-day", A, (A.made, A.started, A.completed, A.ready), (A.day,), filters)


def _module_days(filters: Filters):
    return _rows("modules-by-day", M, (M.assigned, M.started, M.first_pass, M.completed, M.ft_correct, M.ft_total),
                 (M.day, M.module_id), filters, module=True)


def summary(filters: Filters, days=None) -> tuple[int, int, int, int, float | None]:
    """Assignments made, started, completed, ready, and the median minutes to completion."""
    days = _assignment_days(filters) if days is None else days
    made, started, completed, ready = (sum(int(r[i]) for r in days) for i in range(1, 5))
    histogram = {int(b): int(n) for b, n in _rows("completion", StatCompletion, (StatCompletion.n,),
                                                  (StatCompletion.bucket,), filters)}
    return made, started, completed, ready, median_from_histogram(histogram)


def module_rows(filters: Filters, days=None) -> list[ModuleRow]:
    days = _module_days(filters) if days is None else days
    titles = {m.id: (i, m.title) for i, m in enumerate(modules())}
    totals: dict[str, list[int]] = {}
    for _, module_id, *counts in days:
        into = totals.setdefault(module_id, [0] * 6)
        for i, count in enumerate(counts):
            into[i] += int(count)
    rows = [ModuleRow(m, titles.get(m, (0, m))[1], *counts) for m, counts in totals.items()]
    rows = [r for r in rows if r.assigned or r.started]
    rows.sort(key=lambda r: titles.get(r.module_id, (len(titles), ""))[0])
    return rows


def dashboard(filters: Filters) -> Dashboard:
    assignment_days, module_days = _assignment_days(filters), _module_days(filters)
    made, started, completed, ready, median = summary(filters, assignment_days)
    return Dashboard(filters, made, started, completed, ready, median, module_rows(filters, module_days),
                     most_missed(filters), weekly(filters, assignment_days, module_days))


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weekly(filters: Filters, assignment_days=None, module_days=None) -> list[WeekRow]:
    """Every week of the range (empty weeks too: a gap in a trend is information)."""
    weeks: dict[date, WeekRow] = {}
    monday = _monday(filters.start)
    while monday <= filters.end:
        weeks[monday] = WeekRow(monday)
        monday += timedelta(weeks=1)
    for day, made, _, completed, _ in (_assignment_days(filters) if assignment_days is None else assignment_days):
        row = weeks[_monday(day)]
        row.made += int(made)
        row.completed += int(completed)
    for day, _, *counts in (_module_days(filters) if module_days is None else module_days):
        row = weeks[_monday(day)]
        row.ft_correct += int(counts[4])
        row.ft_total += int(counts[5])
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
    version: VersionInfo
    sums: ItemSums
    choices: list[ChoiceRow] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)

    @property
    def question_id(self) -> str:
        return self.version.question_id

    @property
    def number(self) -> int:
        return self.version.number

    @property
    def current(self) -> bool:
        return self.version.current

    @property
    def module_title(self) -> str:
        return self.version.module_title

    @property
    def facility(self) -> float | None:
        return facility(self.sums)

    @property
    def discrimination(self) -> float | None:
        return discrimination(self.sums)

    @property
    def mean_tries(self) -> float | None:
        return mean_tries_to_mastery(self.sums)


I = StatItem


def _item_sums(filters: Filters, choices: bool = True) -> dict[int, ItemSums]:
    sums: dict[int, ItemSums] = {}
    for r in _rows("items", I, (I.n, I.sum_x, I.sum_y, I.sum_xy, I.sum_xx, I.sum_yy, I.mastered, I.tries),
                   (I.question_version_id,), filters):
        sums[r[0]] = ItemSums(*map(int, r[1:]))
    if choices:
        for version_id, choice, n in _rows("choices", StatChoice, (StatChoice.n,),
                                           (StatChoice.question_version_id, StatChoice.choice), filters):
            sums.setdefault(version_id, ItemSums()).choices[int(choice)] = int(n)
    return sums


def _item_row(version: VersionInfo, sums: ItemSums | None) -> ItemRow:
    sums = sums or ItemSums()
    texts = [text for text, _ in version.choices]
    correct = [ok for _, ok in version.choices]
    shares = choice_shares(sums, len(texts))
    row = ItemRow(version, sums)
    row.choices = [ChoiceRow(t, ok, sums.choices.get(i, 0), s) for i, (t, ok, s) in enumerate(zip(texts, correct, shares))]
    row.flags = flags(sums, correct, texts)
    return row


def items(filters: Filters, flagged_only: bool = False) -> list[ItemRow]:
    """One row per question version answered in the range (a version nobody answered has no statistics
    to show), in bank order."""
    sums = _item_sums(filters)
    rows = [_item_row(v, sums[v.id]) for v in versions(filters.module_id) if v.id in sums and sums[v.id].n]
    if flagged_only:
        rows = [r for r in rows if r.flags]
    return rows


def most_missed(filters: Filters) -> list[MissedRow]:
    """Key points by share missed on the first try (versions sharing a key point sentence add up)."""
    sums = _item_sums(filters, choices=False)
    totals: dict[tuple[str, str], list[int]] = {}
    for version in versions(filters.module_id):
        found = sums.get(version.id)
        if found and found.n:
            entry = totals.setdefault((version.module_title, version.key_point), [0, 0])
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

    def full(self, row: ItemRow) -> QuestionVersion:
        """The stored version of a row (its explanation, citations, review, date)."""
        return next(v for v in self.question.versions if v.id == row.version.id)

    @property
    def earlier(self) -> list[ItemRow]:
        return [r for r in self.rows if not r.current]


def question_report(question_id: str, filters: Filters) -> QuestionReport | None:
    question = db.session.get(Question, question_id)
    if question is None:
        return None
    infos = [v for v in versions(question.module_id) if v.question_id == question_id]
    if not any(v.current for v in infos):
        return None
    sums = _item_sums(filters)
    return QuestionReport(question, [_item_row(v, sums.get(v.id)) for v in infos])
