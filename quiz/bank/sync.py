"""Storing a validated bank in the database without rewriting history.

* A question whose content fingerprint is new gets a new `QuestionVersion`; earlier versions, and the
  answers that point at them, are never changed.
* A question or module missing from the bank is retired (kept, marked with `retired_at`), and comes
  back if it reappears.
* A review belongs to the content it reviewed: one (`reviewed_on`, `reviewed_by_role`) pair certifies
  one version of a question. When a question's content changes but its review fields do not, the new
  version is a draft until someone reviews it again and records a new date (or role); reloading the
  same files again does not move the old review onto it. Adding or renewing a review on unchanged
  content updates that version. Reverting to reviewed content makes it current, reviewed, again.
* Syncing the same bank twice changes nothing. The caller commits or rolls back: one bank load is one
  transaction.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..extensions import db
from ..models import Module, Question, QuestionVersion, utcnow
from .loader import Bank


@dataclass
class SyncReport:
    modules_added: list[str] = field(default_factory=list)
    modules_retired: list[str] = field(default_factory=list)
    questions_added: list[str] = field(default_factory=list)
    questions_changed: list[str] = field(default_factory=list)
    questions_retired: list[str] = field(default_factory=list)
    questions_restored: list[str] = field(default_factory=list)
    reviews_recorded: list[str] = field(default_factory=list)
    changed_since_review: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(vars(self).values())

    def lines(self) -> list[str]:
        labels = {
            "modules_added": "modules added", "modules_retired": "modules retired",
            "questions_added": "questions added", "questions_changed": "questions with a new version",
            "questions_restored": "questions restored", "questions_retired": "questions retired",
            "reviews_recorded": "reviews recorded",
            "changed_since_review": "changed since their last review (drafts until reviewed again)",
        }
        return [f"{label}: {', '.join(getattr(self, name))}"
                for name, label in labels.items() if getattr(self, name)]


def sync_bank(bank: Bank) -> SyncReport:
    report = SyncReport()
    now = utcnow()
    modules = {m.id: m for m in db.session.execute(db.select(Module)).scalars()}
    questions = {q.id: q for q in db.session.execute(db.select(Question)).scalars()}
    versions = {
        (v.question_id, v.fingerprint): v
        for v in db.session.execute(db.select(QuestionVersion)).scalars()
    }

    for position, spec in enumerate(bank.modules, start=1):
        module = modules.get(spec.id)
        if module is None:
            module = Module(id=spec.id)
            db.session.add(module)
            report.modules_added.append(spec.id)
        _assign(module, title=spec.title, summary=spec.summary, critical=spec.critical,
                position=position, retired_at=None)

    # Modules must exist before questions point at them (PostgreSQL checks foreign keys at once).
    db.session.flush()

    seen: set[str] = set()
    for spec in bank.questions:
        seen.add(spec.id)
        question = questions.get(spec.id)
        fingerprint = spec.fingerprint
        if question is None:
            question = Question(id=spec.id, current_fingerprint=fingerprint)
            db.session.add(question)
            report.questions_added.append(spec.id)
        elif question.current_fingerprint != fingerprint:
            report.questions_changed.append(spec.id)
        if question.retired_at is not None:
            report.questions_restored.append(spec.id)
        _assign(question, module_id=spec.module_id, position=spec.position,
                current_fingerprint=fingerprint, retired_at=None)
        claimed = (spec.reviewed_on, spec.reviewed_by_role)
        review = {"reviewed_on": spec.reviewed_on, "reviewed_by_role": spec.reviewed_by_role}
        # The same review already certifies other words of this question: it says nothing of these.
        used_elsewhere = spec.reviewed_on is not None and any(
            (v.reviewed_on, v.reviewed_by_role) == claimed
            for (qid, fp), v in versions.items() if qid == spec.id and fp != fingerprint
        )
        unreviewed = {"reviewed_on": None, "reviewed_by_role": None}
        version = versions.get((spec.id, fingerprint))
        if version is None:
            if used_elsewhere:
                review = unreviewed
                report.changed_since_review.append(spec.id)
            version = QuestionVersion(question_id=spec.id, fingerprint=fingerprint,
                                      **spec.content(), **review)
            db.session.add(version)
            versions[(spec.id, fingerprint)] = version
        elif (version.reviewed_on, version.reviewed_by_role) != claimed:
            if used_elsewhere:
                if version.reviewed_on is not None:
                    _assign(version, **unreviewed)
                report.changed_since_review.append(spec.id)
            else:
                _assign(version, **review)
                report.reviews_recorded.append(spec.id)

    for question in questions.values():
        if question.id not in seen and question.retired_at is None:
            question.retired_at = now
            report.questions_retired.append(question.id)
    bank_modules = {m.id for m in bank.modules}
    for module in modules.values():
        if module.id not in bank_modules and module.retired_at is None:
            module.retired_at = now
            report.modules_retired.append(module.id)
    db.session.flush()
    return report


def _assign(row, **values) -> None:
    """Set attributes only where they differ, so an unchanged bank leaves rows untouched."""
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
