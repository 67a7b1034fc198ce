"""Ready for discharge, and the status a nurse sees, as pure functions (no request, no database).

Which modules count: the assignment's critical modules; when none of its modules is critical, all of
them (an optional-only assignment is ready once it is learned, not from the start).

A patient is **ready** when
* every counted module is mastered (every key point answered right at least once), and
* every key point of a counted module that was missed the first time has a latest teach-back
  response of "verbalizes understanding" or "demonstrates understanding".

The latest response of a key point is that of its most recent entry that no other entry corrects
(supersedes). A correction may only target that latest entry (quiz.nurse.service enforces it), so the
latest entry is always the one that counts.

A key point missed ASK_NURSE_AFTER_MISSES times is **parked** (`quiz.grading`): the quiz stops asking
it until the nurse records a teach-back showing understanding, and then asks it once more. So a
parked key point always needs re-teach, even when an earlier teach-back showed understanding (the
patient missed it again after that teach-back, or missed the re-check it gave); once re-taught, it
waits for that one re-check question, and the patient is in progress until they answer it.

Status, in the order the rules are tried: **ready**; **needs re-teach** (a counted key point was missed
and has no positive latest teach-back: missed and not yet documented, or documented as needing
reinforcement, no evidence of learning or refused; or it is parked); **in progress** (at least one
answer); **not started**.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from .grading import ASK_NURSE_AFTER_MISSES, ModuleProgress
from .models import RESPONSES

POSITIVE_RESPONSES = frozenset({"verbalizes", "demonstrates"})
STATUS_LABELS = {
    "not_started": "Not started",
    "in_progress": "In progress",
    "needs_reteach": "Needs re-teach",
    "ready": "Ready",
}


@dataclass(frozen=True)
class ModuleResult:
    module_id: str
    title: str
    critical: bool
    progress: ModuleProgress


@dataclass(frozen=True)
class TeachBackEntry:
    id: int
    module_id: str
    key_point: str
    response: str
    supersedes_id: int | None = None
    recorded_at: datetime | None = None


@dataclass(frozen=True)
class MissedKeyPoint:
    """A key point answered wrong the first time."""

    module_id: str
    key_point: str
    counts: bool  # part of a module that counts for readiness
    misses: int
    mastered: bool
    latest_response: str | None
    # From `grading.KeyPointProgress`: taken out of the quiz until a teach-back; re-check due; the
    # answers to the re-checks after teach-back (right or not), oldest first.
    parked: bool = False
    recheck_due: bool = False
    rechecks: tuple[bool, ...] = ()

    @property
    def missed_twice(self) -> bool:
        """Missed often enough that the patient was sent to the nurse (`grading.ASK_NURSE_AFTER_MISSES`)."""
        return self.misses >= ASK_NURSE_AFTER_MISSES

    @property
    def understood(self) -> bool:
        return self.latest_response in POSITIVE_RESPONSES

    @property
    def needs_teach_back(self) -> bool:
        return self.counts and (not self.understood or self.parked)

    @property
    def recheck_result(self) -> bool | None:
        """The latest re-check after teach-back: right, not right, or None if none was answered."""
        return self.rechecks[-1] if self.rechecks else None

    @property
    def reason(self) -> str:
        if self.parked and self.understood:
            if self.recheck_result is False:
                return "the re-check question after the teach-back was not right; re-teach it"
            return "missed again after the latest teach-back; re-teach it"
        if self.recheck_due:
            return "teach-back recorded; the patient has one re-check question to answer"
        if self.latest_response is not None:
            return f"latest teach-back: {RESPONSES[self.latest_response].lower()}"
        if self.missed_twice:
            return "missed twice, no teach-back yet"
        return "missed, no teach-back yet"


@dataclass(frozen=True)
class Readiness:
    status: str
    reasons: tuple[str, ...]
    missed: tuple[MissedKeyPoint, ...]
    unfinished: tuple[ModuleResult, ...]

    @property
    def ready(self) -> bool:
        return self.status == "ready"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def teach_back_needed(self) -> tuple[MissedKeyPoint, ...]:
        return tuple(k for k in self.missed if k.needs_teach_back)

    @property
    def rechecks_due(self) -> tuple[MissedKeyPoint, ...]:
        """Re-taught key points whose one re-check question the patient has not answered yet."""
        return tuple(k for k in self.missed if k.counts and k.recheck_due)

    @property
    def short_reason(self) -> str:
        """One line for the patient list."""
        parts = []
        need = len(self.teach_back_needed)
        if need:
            parts.append(f"{need} key point{'s' if need != 1 else ''} to re-teach")
        due = len(self.rechecks_due)
        if due:
            parts.append(f"{due} re-check question{'s' if due != 1 else ''} to answer")
        if self.unfinished:
            count = len(self.unfinished)
            parts.append(f"{count} required module{'s' if count != 1 else ''} not finished")
        return "; ".join(parts)


def latest_entries(entries: Iterable[TeachBackEntry]) -> dict[tuple[str, str], TeachBackEntry]:
    """(module id, key point) -> the latest entry that no other entry supersedes."""
    entries = list(entries)
    superseded = {e.supersedes_id for e in entries if e.supersedes_id is not None}
    latest: dict[tuple[str, str], TeachBackEntry] = {}
    for entry in sorted(entries, key=lambda e: e.id):
        if entry.id not in superseded:
            latest[(entry.module_id, entry.key_point)] = entry
    return latest


def teach_back_positions(
    entries: Iterable[TeachBackEntry], answer_times: Mapping[str, Sequence[datetime]],
) -> dict[str, dict[str, int]]:
    """module id -> key point -> how many of the module's answers had been given when the nurse taught
    it, for each key point whose latest entry shows understanding: the `taught` of
    `grading.module_progress`. `answer_times` holds each module's answer times, in step order.

    The time that counts is when the teaching was charted: a correction keeps the time of the entry it
    corrects (it fixes the chart, it is not a new teaching), so correcting an entry after the patient
    answered its re-check gives no second re-check, while a new entry does. Entries and answers are
    both stamped by the app servers' clocks (UTC)."""
    entries = list(entries)
    by_id = {e.id: e for e in entries}
    positions: dict[str, dict[str, int]] = {}
    for (module_id, key_point), entry in latest_entries(entries).items():
        if entry.response not in POSITIVE_RESPONSES or module_id not in answer_times:
            continue
        first = entry
        while first.supersedes_id is not None and first.supersedes_id in by_id:
            first = by_id[first.supersedes_id]
        if first.recorded_at is None:
            continue
        before = sum(1 for at in answer_times[module_id] if at <= first.recorded_at)
        positions.setdefault(module_id, {})[key_point] = before
    return positions


def readiness(modules: Sequence[ModuleResult], entries: Iterable[TeachBackEntry]) -> Readiness:
    latest = latest_entries(entries)
    counted_ids = {m.module_id for m in modules if m.critical} or {m.module_id for m in modules}
    missed = tuple(
        MissedKeyPoint(
            module.module_id, point.key_point, module.module_id in counted_ids, point.misses, point.mastered,
            latest[(module.module_id, point.key_point)].response
            if (module.module_id, point.key_point) in latest else None,
            point.parked, point.recheck_due, point.rechecks,
        )
        for module in modules
        for point in module.progress.key_points
        if point.first_try_correct is False
    )
    unfinished = tuple(m for m in modules if m.module_id in counted_ids and not m.progress.complete)
    reasons = [f"{k.key_point} ({k.reason})" for k in missed if k.needs_teach_back or (k.counts and k.recheck_due)]
    reasons += [
        f"{m.title}: not finished ({m.progress.mastered_count} of {len(m.progress.key_points)} key points learned)"
        for m in unfinished
    ]
    if not modules:
        reasons.append("No modules assigned")
    if not reasons:
        status = "ready"
    elif any(k.needs_teach_back for k in missed):
        status = "needs_reteach"
    elif any(m.progress.started for m in modules):
        status = "in_progress"
    else:
        status = "not_started"
    return Readiness(status, tuple(reasons), missed, unfinished)
