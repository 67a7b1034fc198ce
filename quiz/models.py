"""Database models: the loaded question bank (modules, questions and their versions), patient
assignments, and the answers patients give.

History never changes: an answer points at the exact `QuestionVersion` the patient saw, and bank reloads
add versions instead of editing them (see `quiz.bank.sync`).
"""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy import types
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(types.TypeDecorator):
    """Timezone-aware UTC timestamps on every backend (SQLite drops tzinfo when it stores a value)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given; use timezone-aware UTC")
            value = value.astimezone(timezone.utc)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class Module(db.Model):
    __tablename__ = "module"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    critical: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    questions: Mapped[list[Question]] = relationship(
        back_populates="module", order_by="Question.position"
    )


class Question(db.Model):
    """A stable question identity; its content lives in versions."""

    __tablename__ = "question"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    module_id: Mapped[str] = mapped_column(ForeignKey("module.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    current_fingerprint: Mapped[str] = mapped_column(String(64))
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    module: Mapped[Module] = relationship(back_populates="questions")
    versions: Mapped[list[QuestionVersion]] = relationship(
        back_populates="question", order_by="QuestionVersion.id"
    )

    @property
    def current_version(self) -> QuestionVersion:
        for version in self.versions:
            if version.fingerprint == self.current_fingerprint:
                return version
        raise LookupError(f"question {self.id} has no version {self.current_fingerprint}")


class QuestionVersion(db.Model):
    """One immutable snapshot of a question's content, identified by its fingerprint."""

    __tablename__ = "question_version"
    __table_args__ = (UniqueConstraint("question_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[str] = mapped_column(ForeignKey("question.id"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    key_point: Mapped[str] = mapped_column(Text)
    prompt: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(20))
    explanation: Mapped[str] = mapped_column(Text)
    # [{"text": str, "correct": bool, "feedback": str | None}, ...] in the order shown
    choices: Mapped[list] = mapped_column(JSON)
    # [{"source": file name, "quote": str}, ...]
    citations: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who reviewed exactly this content, and when. A version without a review is a draft: it is never
    # shown to patients. Review data is not content: it can be added to an existing version.
    reviewed_on: Mapped[date | None] = mapped_column(Date)
    reviewed_by_role: Mapped[str | None] = mapped_column(String(200))

    question: Mapped[Question] = relationship(back_populates="versions")

    @property
    def is_draft(self) -> bool:
        return self.reviewed_on is None


class Assignment(db.Model):
    """Modules a nurse gave one patient, reachable with one access code."""

    __tablename__ = "assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_label: Mapped[str] = mapped_column(String(100))
    # SHA-256 of the normalised code: the code itself is shown once and never stored.
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    modules: Mapped[list[AssignmentModule]] = relationship(
        back_populates="assignment", order_by="AssignmentModule.position",
        cascade="all, delete-orphan",
    )

    def is_usable(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return self.revoked_at is None and self.expires_at > now


class AssignmentModule(db.Model):
    __tablename__ = "assignment_module"

    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"), primary_key=True)
    module_id: Mapped[str] = mapped_column(ForeignKey("module.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    assignment: Mapped[Assignment] = relationship(back_populates="modules")
    module: Mapped[Module] = relationship()


class Answer(db.Model):
    """One submitted answer. `step` numbers the answers in one module of one assignment; the unique
    constraint on it is what makes a double-clicked or replayed submit land only once."""

    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("assignment_id", "module_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"), index=True)
    module_id: Mapped[str] = mapped_column(ForeignKey("module.id"))
    step: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[str] = mapped_column(ForeignKey("question.id"))
    question_version_id: Mapped[int] = mapped_column(ForeignKey("question_version.id"))
    selected: Mapped[list] = mapped_column(JSON)  # indices into the version's choices
    correct: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the patient moves on from the feedback card; until then, resuming shows that card.
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    version: Mapped[QuestionVersion] = relationship()
