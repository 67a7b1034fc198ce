"""What the admin's "Question bank" page shows: the loaded bank (its fingerprint, modules, questions,
drafts, and which modules cannot be assigned and why) and the last `questions check` / `questions load`
result with its readability table.

Check results are stored in `bank_check` by the commands (`record_check`), so the page shows what the
last run found on whichever server ran it. Storing is best effort: `questions check` validates files
and must keep working where the database is not set up yet (`make test` runs it on a fresh clone), so
it then says the result was not recorded instead of failing.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import inspect

from .assignments import ready_module_ids
from .bank import Bank
from .extensions import db
from .models import BankCheck, Module, Question, QuestionVersion
from .startup import DATABASE_ERRORS


def fingerprint_of(pairs) -> str:
    """One fingerprint for a set of question versions: (question id, version fingerprint) pairs."""
    digest = hashlib.sha256()
    for question_id, version in sorted(pairs):
        digest.update(f"{question_id}:{version}\n".encode())
    return digest.hexdigest()


def files_fingerprint(bank: Bank) -> str:
    return fingerprint_of((q.id, q.fingerprint) for q in bank.questions)


def loaded_fingerprint() -> str | None:
    """The fingerprint of the questions the database serves now (retired ones left out): equal to
    `files_fingerprint` of the files that were loaded last."""
    pairs = db.session.execute(
        db.select(Question.id, Question.current_fingerprint).where(Question.retired_at.is_(None))
    ).all()
    return fingerprint_of(pairs) if pairs else None


# --- storing a check ----------------------------------------------------------------------------------

def _readability_rows(bank: Bank) -> list[dict]:
    rows = []
    for module in bank.modules:
        for question_id in [None] + [q.id for q in module.questions]:
            score = bank.readability.get(question_id or module.id)
            if score is None:
                continue
            rows.append({"module": module.id, "question": question_id,
                         "flesch_kincaid": round(score.flesch_kincaid, 1), "dale_chall": round(score.dale_chall, 2),
                         "dale_chall_grade": score.dale_chall_grade, "grade": round(score.grade, 1),
                         "level": score.level})
    return rows


def _module_rows(bank: Bank) -> list[dict]:
    return [{
        "id": module.id, "title": module.title, "critical": module.critical,
        "questions": len(module.questions), "drafts": sum(q.is_draft for q in module.questions),
        "key_points": len({q.key_point for q in module.questions}),
        "citations": sum(len(q.citations) for q in module.questions),
        "test_wise": str(bank.test_wiseness[module.id]) if module.id in bank.test_wiseness else "",
    } for module in bank.modules]


def check_row(command: str, folder: str, bank: Bank | None = None, problems=(), warnings=()) -> BankCheck:
    """A `bank_check` row for a run that produced `bank` (passed) or `problems` (failed)."""
    if bank is not None:
        warnings = bank.warnings
    return BankCheck(
        command=command, ok=bank is not None, folder=str(folder)[:500],
        fingerprint=files_fingerprint(bank) if bank is not None else None,
        problems=[str(p) for p in problems], warnings=[str(w) for w in warnings],
        modules=_module_rows(bank) if bank is not None else [],
        readability=_readability_rows(bank) if bank is not None else [],
    )


def record_check(command: str, folder: str, bank: Bank | None = None, problems=(), warnings=()) -> str | None:
    """Store a run's result in its own transaction. Returns why it was not stored, or None."""
    url = db.engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") \
            and not Path(url.database).exists():
        return "the database does not exist yet (run flask --app wsgi db upgrade)"  # and do not create it
    try:
        if not inspect(db.engine).has_table(BankCheck.__tablename__):
            return "the database has no bank_check table yet (run flask --app wsgi db upgrade)"
        db.session.add(check_row(command, folder, bank, problems, warnings))
        db.session.commit()
    except DATABASE_ERRORS as error:
        db.session.rollback()
        return f"the database could not be used ({type(error).__name__})"
    return None


def latest_check() -> BankCheck | None:
    return db.session.execute(db.select(BankCheck).order_by(BankCheck.id.desc()).limit(1)).scalar_one_or_none()


# --- the loaded bank ----------------------------------------------------------------------------------

@dataclass
class ModuleStatus:
    id: str
    title: str
    critical: bool
    retired: bool
    questions: int = 0        # live questions (not retired)
    reviewed: int = 0         # of those, whose current version is reviewed
    assignable: bool = False
    why_not: list[str] = field(default_factory=list)

    @property
    def drafts(self) -> int:
        return self.questions - self.reviewed


def module_statuses() -> list[ModuleStatus]:
    """Every module in the database, with its question counts and, when a nurse cannot assign it,
    why (the same rule as `ready_module_ids`, explained)."""
    rows = db.session.execute(
        db.select(Module.id, Module.title, Module.critical, Module.retired_at,
                  db.func.count(Question.id),
                  db.func.count(QuestionVersion.reviewed_on))
        .outerjoin(Question, (Question.module_id == Module.id) & Question.retired_at.is_(None))
        .outerjoin(QuestionVersion, (QuestionVersion.question_id == Question.id)
                   & (QuestionVersion.fingerprint == Question.current_fingerprint))
        .group_by(Module.id, Module.title, Module.critical, Module.retired_at, Module.position)
        .order_by(Module.retired_at.is_not(None), Module.position, Module.id)
    ).all()
    ready = set(ready_module_ids())
    statuses = []
    for module_id, title, critical, retired_at, questions, reviewed in rows:
        status = ModuleStatus(module_id, title, critical, retired_at is not None, questions, reviewed,
                              assignable=module_id in ready)
        if not status.assignable:
            if status.retired:
                status.why_not.append("Retired: its file is no longer in the bank.")
            if questions == 0:
                status.why_not.append("It has no questions.")
            elif reviewed == 0:
                status.why_not.append(f"All {questions} of its questions are drafts (not reviewed yet); "
                                      "patients are never shown drafts.")
        statuses.append(status)
    return statuses
