"""Database models: the loaded question bank (modules, questions and their versions), patient
assignments, and the answers patients give; the staff workspace (units, staff, patients, teach-back
entries, the audit log and server-side sessions) is grouped at the end.

History never changes: an answer points at the exact `QuestionVersion` the patient saw, and bank reloads
add versions instead of editing them (see `quiz.bank.sync`).
"""
from __future__ import annotations

from datetime import date, datetime, timezone

from flask_login import UserMixin
from sqlalchemy import DDL, JSON, Boolean, CheckConstraint, Column, Date, DateTime, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy import event, types
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


class BankRevision(db.Model):
    """One row: a random token that changes with every change to the bank tables (module, question,
    question_version), in the same transaction (`quiz.bank.snapshot` sets it before each flush that
    touches them). Each process keeps the bank in memory and reads only this token per request, so a
    bank reload by any process or server is seen by all of them at their next request."""

    __tablename__ = "bank_revision"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    token: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Assignment(db.Model):
    """Modules a nurse gave one patient, reachable with one access code."""

    __tablename__ = "assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    # Keyed HMAC of the normalised code (see quiz.assignments): the code itself is never stored.
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The code is derived from this nonce and ACCESS_CODE_KEY, so staff can show it again; None for
    # codes set by hand (the demo) or issued before codes were derived (migration 0003).
    code_nonce: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Bumped by every staff change (reissue, revoke, modules, expiry): the live list's change marker.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    patient: Mapped[Patient] = relationship(back_populates="assignments")
    created_by: Mapped[StaffUser | None] = relationship()
    modules: Mapped[list[AssignmentModule]] = relationship(
        back_populates="assignment", order_by="AssignmentModule.position",
        cascade="all, delete-orphan",
    )

    @property
    def patient_label(self) -> str:
        """How staff recognise the patient (kept for templates written before Patient existed)."""
        return self.patient.label

    def is_usable(self, now: datetime | None = None) -> bool:
        return self.usable(self.revoked_at, self.expires_at, now)

    @staticmethod
    def usable(revoked_at: datetime | None, expires_at: datetime, now: datetime | None = None) -> bool:
        """The rule, for callers that read the two columns without loading the object."""
        return revoked_at is None and expires_at > (now or utcnow())


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


# --- Staff workspace: units, staff, patients, teach-back, audit, sessions ---------------------------

staff_unit = Table(
    "staff_unit",
    db.metadata,
    Column("staff_id", ForeignKey("staff_user.id"), primary_key=True),
    Column("unit_id", ForeignKey("unit.id"), primary_key=True),
)


class Unit(db.Model):
    """A ward. Nurses see the patients of their units only; admins see every unit."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


ROLES = ("nurse", "admin")


class StaffUser(UserMixin, db.Model):
    __tablename__ = "staff_user"
    __table_args__ = (CheckConstraint("role IN ('nurse', 'admin')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-case: sign-in ignores case.
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    # argon2id hash (quiz.passwords); never the password itself.
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    units: Mapped[list[Unit]] = relationship(secondary=staff_unit, order_by=Unit.name)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def sees_unit(self, unit_id: int) -> bool:
        return self.is_admin or any(unit.id == unit_id for unit in self.units)


class Patient(db.Model):
    """A patient as the ward knows them: a display label (no real name needed), the unit and an
    optional reference to the hospital's own record."""

    __tablename__ = "patient"
    __table_args__ = (UniqueConstraint("unit_id", "external_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(100))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    external_ref: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    unit: Mapped[Unit] = relationship()
    created_by: Mapped[StaffUser | None] = relationship()
    assignments: Mapped[list[Assignment]] = relationship(back_populates="patient", order_by="Assignment.id")


LEARNERS = {"patient": "Patient", "family": "Family member", "caregiver": "Caregiver"}
METHODS = {"explanation": "Explanation", "demonstration": "Demonstration",
           "written": "Written material", "teach_back": "Teach-back"}
RESPONSES = {
    "verbalizes": "Verbalizes understanding",
    "demonstrates": "Demonstrates understanding",
    "needs_reinforcement": "Needs reinforcement",
    "no_evidence": "No evidence of learning",
    "refused": "Refused",
}


def _one_of(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class TeachBack(db.Model):
    """One teaching outcome for one key point, as nurses chart it. Never edited: a correction is a new
    entry whose `supersedes_id` names the entry it corrects; both are kept (the table refuses UPDATE
    and DELETE, see `APPEND_ONLY_TABLES`)."""

    __tablename__ = "teach_back"
    __table_args__ = (
        CheckConstraint(_one_of("learner", LEARNERS), name="learner"),
        CheckConstraint(_one_of("method", METHODS), name="method"),
        CheckConstraint(_one_of("response", RESPONSES), name="response"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"), index=True)
    module_id: Mapped[str] = mapped_column(ForeignKey("module.id"))
    # A key point is identified by its sentence, as in grading (questions sharing it teach it).
    key_point: Mapped[str] = mapped_column(Text)
    learner: Mapped[str] = mapped_column(String(20))
    method: Mapped[str] = mapped_column(String(20))
    response: Mapped[str] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(String(500))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Unique: a correction chain is a line, never a fork.
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("teach_back.id"), unique=True)

    recorded_by: Mapped[StaffUser] = relationship()


class AuditEvent(db.Model):
    """Who did what, when, from where. The filterable parts are columns (the admin pages filter on
    them); `detail` holds the rest. Written only through `quiz.audit.record`; the table refuses UPDATE
    and DELETE."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    # The actor's username at the time, or what was typed on a failed sign-in, or "cli".
    actor_name: Mapped[str | None] = mapped_column(String(64))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignment.id"))
    address: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class WebSession(db.Model):
    """A signed-in browser (staff or patient), see `quiz.sessions`. The cookie holds a random token;
    the key is its SHA-256, so a copy of this table cannot be replayed as cookies."""

    __tablename__ = "web_session"
    __table_args__ = (CheckConstraint("kind IN ('staff', 'patient')", name="kind"),)

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignment.id"), index=True)
    data: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BankCheck(db.Model):
    """The result of one `questions check` or `questions load` run, as the admin's bank status page
    shows it: passed or not, the problems and warnings, the figures per module and the readability
    table. Rows are only added (the page reads the latest); `quiz.bank_status` writes and reads them."""

    __tablename__ = "bank_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    command: Mapped[str] = mapped_column(String(10))  # "check" or "load"
    ok: Mapped[bool] = mapped_column(Boolean)
    folder: Mapped[str] = mapped_column(String(500))
    # Of the questions in the files (see quiz.bank_status.files_fingerprint); None when they did not load.
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    problems: Mapped[list] = mapped_column(JSON, default=list)
    warnings: Mapped[list] = mapped_column(JSON, default=list)
    modules: Mapped[list] = mapped_column(JSON, default=list)
    readability: Mapped[list] = mapped_column(JSON, default=list)


# Append-only tables: the database itself refuses UPDATE and DELETE, so no code path can rewrite the
# record. Migration 0003 creates the same triggers (keep them in step).
APPEND_ONLY_TABLES = ("audit_event", "teach_back")
PG_APPEND_ONLY_FUNCTION = (
    "CREATE OR REPLACE FUNCTION quiz_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
)


def append_only_ddl(table: str, dialect: str) -> list[str]:
    if dialect == "postgresql":
        return [PG_APPEND_ONLY_FUNCTION,
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION quiz_append_only()"]
    if dialect == "sqlite":
        return [f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                for verb in ("UPDATE", "DELETE")]
    return []


for _table in APPEND_ONLY_TABLES:
    for _dialect in ("postgresql", "sqlite"):
        for _statement in append_only_ddl(_table, _dialect):
            event.listen(db.metadata.tables[_table], "after_create",
                         DDL(_statement.replace("%", "%%")).execute_if(dialect=_dialect))


# --- Statistics: sufficient statistics for the administrator reports (see quiz.stats) ---------------
# Sums over assignments, keyed by the day (and, again, the week) the assignment was made (in
# DISPLAY_TIMEZONE) and the patient's unit. Rows only ever hold sums: a page adds a bounded number of
# them, never scans answers. The primary keys start with (period, unit, day): a page reads one range of
# each (see quiz.stats.contribution for periods and unit 0, the sum over all units).

def _counter(big: bool = False):
    return mapped_column(types.BigInteger if big else Integer, default=0, server_default="0")


def _period():
    # "d": a day's row; "w": a week's row, dated by its Monday (quiz.stats.contribution).
    return mapped_column(String(1), CheckConstraint("period IN ('d', 'w')", name="period"), primary_key=True)


def _unit():
    # The patient's unit, or 0 for the sum over all units (no foreign key: 0 is not a unit).
    return mapped_column(Integer, primary_key=True, autoincrement=False)


class StatAssignment(db.Model):
    __tablename__ = "stat_assignment"

    period: Mapped[str] = _period()
    unit_id: Mapped[int] = _unit()
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    made: Mapped[int] = _counter()
    started: Mapped[int] = _counter()
    completed: Mapped[int] = _counter()
    ready: Mapped[int] = _counter()


class StatCompletion(db.Model):
    """Histogram of minutes from assignment to completion (bucket b: [1.1^b, 1.1^(b+1)))."""

    __tablename__ = "stat_completion"

    period: Mapped[str] = _period()
    unit_id: Mapped[int] = _unit()
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = _counter()


class StatModule(db.Model):
    __tablename__ = "stat_module"

    period: Mapped[str] = _period()
    unit_id: Mapped[int] = _unit()
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    module_id: Mapped[str] = mapped_column(ForeignKey("module.id"), primary_key=True)
    assigned: Mapped[int] = _counter()
    started: Mapped[int] = _counter()
    first_pass: Mapped[int] = _counter()
    completed: Mapped[int] = _counter()
    ft_correct: Mapped[int] = _counter(big=True)
    ft_total: Mapped[int] = _counter(big=True)


class StatItem(db.Model):
    """First tries on one question version: n, Σx, Σy, Σxy, Σx², Σy² (x: the item's score, y: the
    rest of the module's first-try score), and tries to mastery."""

    __tablename__ = "stat_item"

    period: Mapped[str] = _period()
    unit_id: Mapped[int] = _unit()
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    question_version_id: Mapped[int] = mapped_column(ForeignKey("question_version.id"), primary_key=True)
    n: Mapped[int] = _counter()
    sum_x: Mapped[int] = _counter(big=True)
    sum_y: Mapped[int] = _counter(big=True)
    sum_xy: Mapped[int] = _counter(big=True)
    sum_xx: Mapped[int] = _counter(big=True)
    sum_yy: Mapped[int] = _counter(big=True)
    mastered: Mapped[int] = _counter()
    tries: Mapped[int] = _counter(big=True)


class StatChoice(db.Model):
    """How many first tries on a question version selected each choice."""

    __tablename__ = "stat_choice"

    period: Mapped[str] = _period()
    unit_id: Mapped[int] = _unit()
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    question_version_id: Mapped[int] = mapped_column(ForeignKey("question_version.id"), primary_key=True)
    choice: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = _counter()


class StatContribution(db.Model):
    """What each assignment last added to the tables above, so an update adds only the difference."""

    __tablename__ = "stat_contribution"

    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"), primary_key=True,
                                               autoincrement=False)
    data: Mapped[list] = mapped_column(JSON, default=list)
