"""The bank as the patient pages read it: an immutable in-memory snapshot per process, rebuilt only
when the bank changes.

Between two bank loads the modules, questions and question versions never change, yet every patient
request needs them (which question comes next, what a card shows, the key point each past answer
counted for). Read from the database, that was three queries and the JSON decoding of every version's
choices and citations per use, several uses per request. Here they are read once into plain frozen
objects and shared by every thread of the process.

**Seeing a reload everywhere.** Any flush that adds, changes or deletes a Module, Question or
QuestionVersion also writes a new random token into the one-row `bank_revision` table, in the same
transaction (a `before_flush` hook below, so no writer can forget: `questions load`, a migration
script through the ORM, a test fixture). `current()` reads that token (one primary-key read, once per
request) and rebuilds the snapshot when it differs from the one in memory, so a reload committed by any
worker or server is used by every process from its next request on. A token, not a counter: a database
dropped and created again (tests) never repeats one. With no row yet (a bank never loaded), nothing is
kept in memory.

A bank changed with Core `UPDATE`/`INSERT` statements that bypass the ORM is not seen; nothing in the
app does that (`quiz.bank.sync` works through the ORM).
"""
from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from flask import current_app, g
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import BankRevision, Module, Question, QuestionVersion, utcnow

EXTENSION = "quiz_bank_snapshot"
BANK_MODELS = (Module, Question, QuestionVersion)
_BUILD_LOCK = threading.Lock()


def _frozen(items: list[dict]) -> tuple[MappingProxyType, ...]:
    """Choices and citations as read-only mappings: shared by every thread, so nothing may edit them
    (templates read `choice.text` or `choice["text"]` alike)."""
    return tuple(MappingProxyType(dict(item)) for item in items)


@dataclass(frozen=True)
class VersionView:
    """One question version's content (as `QuestionVersion`, read-only)."""

    id: int
    question_id: str
    fingerprint: str
    key_point: str
    prompt: str
    type: str
    explanation: str
    choices: tuple[MappingProxyType, ...]
    citations: tuple[MappingProxyType, ...]
    reviewed_on: date | None
    reviewed_by_role: str | None

    @property
    def is_draft(self) -> bool:
        return self.reviewed_on is None


@dataclass(frozen=True)
class QuestionView:
    id: str
    module_id: str
    position: int
    retired_at: datetime | None
    current_version: VersionView


@dataclass(frozen=True)
class ModuleView:
    id: str
    title: str
    summary: str
    critical: bool
    position: int
    retired_at: datetime | None


@dataclass(frozen=True)
class BankSnapshot:
    token: str | None
    modules: dict[str, ModuleView]
    # The questions a patient may see (not retired, current version reviewed), per module, in bank order.
    served: dict[str, tuple[QuestionView, ...]]
    # Every version ever stored: past answers point at versions that are no longer current.
    versions: dict[int, VersionView]
    # Derived values that depend only on the bank (a card's cleaned quotes, say), computed on first use.
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def served_in(self, module_id: str) -> tuple[QuestionView, ...]:
        return self.served.get(module_id, ())

    def remember(self, key, compute):
        """`compute()` once per key for the life of this snapshot (a reload starts afresh)."""
        try:
            return self.memo[key]
        except KeyError:
            value = self.memo[key] = compute()  # two threads may both compute it: same value, harmless
            return value


def _build(token: str | None) -> BankSnapshot:
    modules = {
        m.id: ModuleView(m.id, m.title, m.summary, bool(m.critical), m.position, m.retired_at)
        for m in db.session.execute(db.select(Module.__table__)).all()
    }
    versions = {
        v.id: VersionView(v.id, v.question_id, v.fingerprint, v.key_point, v.prompt, v.type, v.explanation,
                          _frozen(v.choices), _frozen(v.citations), v.reviewed_on, v.reviewed_by_role)
        for v in db.session.execute(db.select(QuestionVersion.__table__)).all()
    }
    by_fingerprint = {(v.question_id, v.fingerprint): v for v in versions.values()}
    served: dict[str, list[QuestionView]] = {}
    rows = db.session.execute(
        db.select(Question.__table__).where(Question.retired_at.is_(None))
        .order_by(Question.module_id, Question.position)
    ).all()
    for q in rows:
        current = by_fingerprint.get((q.id, q.current_fingerprint))
        if current is None:
            raise LookupError(f"question {q.id} has no version {q.current_fingerprint}")
        if not current.is_draft:
            served.setdefault(q.module_id, []).append(
                QuestionView(q.id, q.module_id, q.position, q.retired_at, current))
    return BankSnapshot(token, modules, {k: tuple(v) for k, v in served.items()}, versions)


def token_column():
    """The bank's revision token as a column expression, for a caller that reads it together with
    its own first query of the request (then passes it to `current`)."""
    table = BankRevision.__table__.c
    return db.select(table.token).where(table.id == 1).scalar_subquery().label("bank_token")


_NOT_READ = object()


def current(token=_NOT_READ) -> BankSnapshot:
    """The bank as stored now. One token read per request (memoised in `g`; or `token`, read by the
    caller with `token_column()`); a rebuild only after a change."""
    if "bank_snapshot" in g:
        return g.bank_snapshot
    if token is _NOT_READ:
        token = db.session.execute(db.select(BankRevision.token).where(BankRevision.id == 1)).scalar()
    extensions = current_app.extensions
    snapshot = extensions.get(EXTENSION)
    if token is None or snapshot is None or snapshot.token != token:
        with _BUILD_LOCK:  # one thread builds; the others then find it built
            snapshot = extensions.get(EXTENSION)
            if token is None or snapshot is None or snapshot.token != token:
                snapshot = _build(token)
                if token is not None:
                    extensions[EXTENSION] = snapshot
    g.bank_snapshot = snapshot
    return snapshot


def refreshed() -> BankSnapshot:
    """A fresh snapshot for this request, whatever `g` holds: for the rare request that meets a
    version newer than the snapshot it started with (a reload committed mid-request)."""
    g.pop("bank_snapshot", None)
    current_app.extensions.pop(EXTENSION, None)
    return current()


@event.listens_for(Session, "before_flush")
def _new_token_when_the_bank_changes(session: Session, _context, _instances) -> None:
    changed = any(isinstance(obj, BANK_MODELS) for obj in (*session.new, *session.deleted)) or any(
        isinstance(obj, BANK_MODELS) and session.is_modified(obj) for obj in session.dirty
    )
    if not changed:
        return
    with session.no_autoflush:
        row = session.get(BankRevision, 1)
        if row is None:
            session.add(BankRevision(id=1, token=secrets.token_hex(16), changed_at=utcnow()))
        else:
            row.token = secrets.token_hex(16)
            row.changed_at = utcnow()
