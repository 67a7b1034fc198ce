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

Status, in the order the rules are tried: **ready**; **needs re-teach** (a counted key point was missed
and has no positive latest teach-back: missed twice, or missed and not yet documented, or documented
as needing reinforcement, no evidence of learning or refused); **in progress** (at least one answer);
**not started**.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .grading import ModuleProgress
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


@dataclass(frozen=True)
class MissedKeyPoint:
    """A key point answered wrong the first time."""

    module_id: str
    key_point: str
    counts: bool  # part of a module that counts for readiness
    misses: int
    mastered: bool
    latest_response: str | None

    @property
    def missed_twice(self) -> bool:
        return self.misses >= 2

    @property
    def understood(self) -> bool:
        return self.latest_response in POSITIVE_RESPONSES

    @property
    def needs_teach_back(self) -> bool:
        return self.counts and not self.understood

    @property
    def reason(self) -> str:
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
    def short_reason(self) -> str:
        """One line for the patient list."""
        parts = []
        need = len(self.teach_back_needed)
        if need:
            parts.append(f"{need} key point{'s' if need != 1 else ''} to re-teach")
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


def readiness(modules: Sequence[ModuleResult], entries: Iterable[TeachBackEntry]) -> Readiness:
    latest = latest_entries(entries)
    counted_ids = {m.module_id for m in modules if m.critical} or {m.module_id for m in modules}
    missed = tuple(
        MissedKeyPoint(
            module.module_id, point.key_point, module.module_id in counted_ids, point.misses, point.mastered,
            latest[(module.module_id, point.key_point)].response
            if (module.module_id, point.key_point) in latest else None,
        )
        for module in modules
        for point in module.progress.key_points
        if point.first_try_correct is False
    )
    unfinished = tuple(m for m in modules if m.module_id in counted_ids and not m.progress.complete)
    reasons = [f"{k.key_point} ({k.reason})" for k in missed if k.needs_teach_back]
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
