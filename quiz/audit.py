"""The audit log: one table (`AuditEvent`) and one writer (`record`). Every view of a patient's
results, every assignment change, every teach-back entry, every staff sign-in (and failed one) and
staff-management command lands here with who, when, what and from where.

Append-only: this module has no update or delete, and the database refuses both (triggers on
`audit_event`, see `quiz.models.APPEND_ONLY_TABLES`). An event is added to the caller's transaction,
so it is stored exactly when the change it describes is.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import has_request_context, request
from flask_login import current_user

from .extensions import db
from .models import Assignment, AuditEvent, Patient, StaffUser, Unit

# Every action, with what it means (the admin pages offer these as filters).
ACTIONS = {
    "staff.sign_in": "Signed in",
    "staff.sign_in_failed": "Failed sign-in",
    "staff.sign_in_limited": "Sign-in refused by the rate limit",
    "staff.sign_out": "Signed out",
    "staff.create": "Staff account created",
    "staff.disable": "Staff account disabled",
    "staff.enable": "Staff account enabled",
    "staff.password_reset": "Password reset",
    "staff.update": "Role, units or name changed",
    "unit.create": "Unit created",
    "unit.rename": "Unit renamed",
    "audit.export": "Audit log exported",
    "patient.create": "Patient added",
    "patient.results_view": "Viewed a patient's results",
    "record.view": "Opened the education record",
    "assignment.create": "Modules assigned",
    "assignment.code_view": "Access code shown",
    "assignment.reissue": "Access code reissued",
    "assignment.revoke": "Access code revoked",
    "assignment.expiry": "Expiry changed",
    "assignment.modules": "Modules changed",
    "teach_back.record": "Teach-back recorded",
    "teach_back.correct": "Teach-back corrected",
}

_CURRENT = object()


def record(
    action: str, *, actor: StaffUser | None | object = _CURRENT, actor_name: str | None = None,
    unit: Unit | None = None, patient: Patient | None = None, assignment: Assignment | None = None,
    detail: dict | None = None,
) -> AuditEvent:
    """Add one event to the current transaction (the caller commits with the change itself).

    By default the actor is the signed-in staff member; outside a request (the CLI) it is None and
    `actor_name` says "cli" unless given. Patient and unit are taken from the assignment when omitted.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if actor is _CURRENT:
        actor = current_user._get_current_object() if has_request_context() and current_user.is_authenticated else None
    if patient is None and assignment is not None:
        patient = assignment.patient
    if unit is None and patient is not None:
        unit = patient.unit
    if any(o is not None and o.id is None for o in (unit, patient, assignment)):
        db.session.flush()  # new rows need their ids
    if actor_name is None:
        actor_name = actor.username if actor is not None else (None if has_request_context() else "cli")
    event = AuditEvent(
        action=action, actor_id=actor.id if actor is not None else None, actor_name=actor_name,
        unit_id=unit.id if unit is not None else None, patient_id=patient.id if patient is not None else None,
        assignment_id=assignment.id if assignment is not None else None,
        address=request.remote_addr if has_request_context() else None, detail=detail or {},
    )
    db.session.add(event)
    return event


def latest(limit: int = 20) -> list[AuditEvent]:
    return list(reversed(db.session.execute(
        db.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    ).scalars().all()))


# --- reading, for the admin pages --------------------------------------------------------------------

@dataclass(frozen=True)
class AuditFilter:
    """What the admin's audit log shows. Dates are UTC instants: [start, end)."""

    user: str = ""          # the actor's username as recorded (case is ignored)
    patient: str = ""       # a patient's label (part of it) or exact hospital record number
    action: str = ""
    start: datetime | None = None
    end: datetime | None = None

    def as_args(self) -> dict:
        return {k: v for k, v in (("user", self.user), ("patient", self.patient), ("action", self.action)) if v}


def _filtered(query, filters: AuditFilter):
    if filters.user:
        query = query.where(db.func.lower(AuditEvent.actor_name) == filters.user.strip().lower())
    if filters.patient:
        text = filters.patient.strip()
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        patients = db.select(Patient.id).where(
            Patient.label.ilike(f"%{escaped}%", escape="\\") | (Patient.external_ref == text))
        query = query.where(AuditEvent.patient_id.in_(patients))
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.start is not None:
        query = query.where(AuditEvent.at >= filters.start)
    if filters.end is not None:
        query = query.where(AuditEvent.at < filters.end)
    return query


def _rows(filters: AuditFilter):
    """The matching events with their unit's name and patient's label, newest first."""
    return _filtered(
        db.select(AuditEvent, Unit.name, Patient.label)
        .outerjoin(Unit, Unit.id == AuditEvent.unit_id)
        .outerjoin(Patient, Patient.id == AuditEvent.patient_id), filters,
    ).order_by(AuditEvent.id.desc())


def search(filters: AuditFilter, *, limit: int, offset: int = 0) -> list[tuple[AuditEvent, str | None, str | None]]:
    """One page of matching events, newest first, each with its unit's name and its patient's label."""
    return [tuple(row) for row in db.session.execute(_rows(filters).offset(offset).limit(limit))]


def count(filters: AuditFilter) -> int:
    return db.session.execute(
        db.select(db.func.count()).select_from(_filtered(db.select(AuditEvent.id), filters).subquery())
    ).scalar_one()


def iter_search(filters: AuditFilter, batch: int = 1000, before: int | None = None):
    """Every matching event older than id `before` (all when None), newest first, read `batch` rows
    at a time by id, so an export of the whole log holds one batch in memory and keeps no cursor open
    between batches."""
    while True:
        query = _rows(filters)
        if before is not None:
            query = query.where(AuditEvent.id < before)
        rows = [tuple(row) for row in db.session.execute(query.limit(batch))]
        yield from rows
        if len(rows) < batch:
            return
        before = rows[-1][0].id
