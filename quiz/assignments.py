"""Assignments and their access codes: creating them (nurse pages and CLI), changing them (reissue,
revoke, expiry, modules) without touching the answers already given, and finding the assignment a
patient's code opens.

**Codes.** 10 characters from a 23-character alphabet, shown as `ACDEF-HJKMN`: no 0/O, 1/I/L (read
alike), no S/5, B/8, Z/2 (look alike), no G/6 (alike in many sans-serif fonts). log2(23^10) = 45.2
bits, 4.1e13 codes; see the README for what the rate limits make of that. Case, spaces and dashes
are ignored when typed.

**What is stored.** A code is derived from a random per-assignment nonce with HMAC-SHA-256 keyed
with `ACCESS_CODE_KEY` (default `SECRET_KEY`); the database keeps the nonce and an HMAC of the code
(the lookup key), never the code. So a copy of the database alone gives no code away, while the app
(which has the key) can show a nurse the code, link and QR again at any time, e.g. to reprint a lost
sheet, without ending the patient's code. Changing the key ends every outstanding code (nurses reissue).
Codes issued before migration 0003 (8 characters, older alphabet) have no nonce: they keep working
until they expire, but cannot be shown again.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from flask import current_app

from . import stats
from .extensions import db
from .models import Assignment, AssignmentModule, Module, Patient, Question, QuestionVersion, StaffUser, Unit, utcnow

CODE_ALPHABET = "ACDEFHJKMNPQRTUVWXY3479"
CODE_LENGTH = 10
CODE_GROUP = 5
# Accepted (never issued) so that codes printed before migration 0003 work until they expire.
LEGACY_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LEGACY_CODE_LENGTH = 8
LABEL_MAX = 100
EXTERNAL_REF_MAX = 64
MAX_VALID_DAYS = 90
# Assignments made without a unit (the `assign` command without --unit, rows older than units) live
# here; only admins see it until a nurse is added to it.
FALLBACK_UNIT = "Unassigned"


class AssignmentError(ValueError):
    """The assignment cannot be created or changed as asked (unknown module, empty label ...)."""


def normalise_code(raw: str) -> str:
    """Upper-case and drop spaces and dashes, so `abcde fhjkm`, `ABCDE-FHJKM` and `abcdefhjkm` are one code."""
    return re.sub(r"[\s\-\u2010-\u2015]", "", raw or "").upper()


def is_well_formed(code: str) -> bool:
    """A normalised code of the current form, or of the form issued before migration 0003."""
    return (len(code) == CODE_LENGTH and all(c in CODE_ALPHABET for c in code)) or (
        len(code) == LEGACY_CODE_LENGTH and all(c in LEGACY_CODE_ALPHABET for c in code)
    )


def format_code(code: str) -> str:
    """`ACDEFHJKMN` -> `ACDEF-HJKMN` (legacy 8-character codes: `ABCD-EFGH`)."""
    code = normalise_code(code)
    half = CODE_GROUP if len(code) == CODE_LENGTH else len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def _key() -> bytes:
    return current_app.config["ACCESS_CODE_KEY"].encode("utf-8")


def hash_code(raw: str) -> str:
    return hmac.new(_key(), normalise_code(raw).encode("utf-8"), hashlib.sha256).hexdigest()


def derive_code(nonce: str) -> str:
    """The code for this nonce: 256 HMAC bits read as a number, written in base 23 (the bias of the
    modulo is 23^10 / 2^256, nothing)."""
    number = int.from_bytes(hmac.new(_key(), b"access-code:" + nonce.encode("ascii"), hashlib.sha256).digest(), "big")
    chars = []
    for _ in range(CODE_LENGTH):
        number, digit = divmod(number, len(CODE_ALPHABET))
        chars.append(CODE_ALPHABET[digit])
    return "".join(chars)


def new_code() -> str:
    """A random code (what `issue_code` draws, through a fresh nonce)."""
    return derive_code(secrets.token_hex(16))


def code_for(assignment: Assignment) -> str | None:
    """The assignment's current code, if the app can show it again (see the module docstring)."""
    if not assignment.code_nonce:
        return None
    code = derive_code(assignment.code_nonce)
    return code if hmac.compare_digest(hash_code(code), assignment.code_hash) else None


def ready_module_ids(module_ids: list[str] | None = None) -> list[str]:
    """Live modules with at least one question a patient may see (reviewed, not retired), in order."""
    query = (
        db.select(Module.id)
        .join(Question, Question.module_id == Module.id)
        .join(QuestionVersion, (QuestionVersion.question_id == Question.id)
              & (QuestionVersion.fingerprint == Question.current_fingerprint))
        .where(Module.retired_at.is_(None), Question.retired_at.is_(None),
               QuestionVersion.reviewed_on.is_not(None))
        .group_by(Module.id, Module.position)
        .order_by(Module.position)
    )
    if module_ids is not None:
        query = query.where(Module.id.in_(module_ids))
    return list(db.session.execute(query).scalars())


def find_assignment(raw_code: str, now: datetime | None = None) -> Assignment | None:
    """The usable assignment this code opens; None for unknown, expired and revoked codes alike."""
    code = normalise_code(raw_code)
    if not is_well_formed(code):
        return None
    assignment = db.session.execute(
        db.select(Assignment).where(Assignment.code_hash == hash_code(code))
    ).scalar_one_or_none()
    if assignment is None or not assignment.is_usable(now):
        return None
    return assignment


def fallback_unit() -> Unit:
    unit = db.session.execute(db.select(Unit).where(Unit.name == FALLBACK_UNIT)).scalar_one_or_none()
    if unit is None:
        unit = Unit(name=FALLBACK_UNIT)
        db.session.add(unit)
        db.session.flush()
    return unit


def _clean_label(raw: str) -> str:
    label = " ".join((raw or "").split())
    if not label:
        raise AssignmentError("a patient label is needed (for example a bed or initials, not a full name)")
    if len(label) > LABEL_MAX:
        raise AssignmentError(f"the patient label is longer than {LABEL_MAX} characters")
    return label


def _check_days(valid_days: int) -> None:
    if valid_days < 1:
        raise AssignmentError("an access code must stay valid for at least one day")
    if valid_days > MAX_VALID_DAYS:
        raise AssignmentError(f"an access code can stay valid for at most {MAX_VALID_DAYS} days")


def _check_modules(module_ids: list[str], keep: set[str] = frozenset()) -> None:
    """The modules exist, are live and can be assigned; `keep` (already assigned) need not be ready."""
    if not module_ids:
        raise AssignmentError("choose at least one module")
    if len(set(module_ids)) != len(module_ids):
        raise AssignmentError("a module is listed twice")
    new = [m for m in module_ids if m not in keep]
    live = set(db.session.execute(
        db.select(Module.id).where(Module.id.in_(new), Module.retired_at.is_(None))
    ).scalars())
    unknown = [m for m in new if m not in live]
    if unknown:
        raise AssignmentError(f"unknown module(s): {', '.join(unknown)}")
    ready = set(ready_module_ids(new))
    not_ready = [m for m in new if m not in ready]
    if not_ready:
        raise AssignmentError(f"module(s) with no reviewed questions yet: {', '.join(not_ready)}")


def _code_in_use(code_hash: str) -> bool:
    return db.session.execute(db.select(Assignment.id).where(Assignment.code_hash == code_hash)).first() is not None


def issue_code(assignment: Assignment, code: str | None = None) -> str:
    """Give the assignment a new code (replacing any old one) and return it. A fixed `code` (the demo)
    is stored without a nonce. Flushes nothing; the unique constraint on code_hash guards the
    vanishing race with a concurrent insert of the same code."""
    if code is not None:
        code = normalise_code(code)
        if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
            raise AssignmentError(f"a code has {CODE_LENGTH} characters from {CODE_ALPHABET}")
        if _code_in_use(hash_code(code)):
            raise AssignmentError("that access code is already in use")
        assignment.code_hash, assignment.code_nonce = hash_code(code), None
        return code
    for _ in range(5):
        nonce = secrets.token_hex(16)
        candidate = derive_code(nonce)
        code_hash = hash_code(candidate)
        if not _code_in_use(code_hash):  # a collision is about 1 in 10^10 per live code: draw again
            assignment.code_hash, assignment.code_nonce = code_hash, nonce
            return candidate
    raise AssignmentError("could not draw an unused access code")


def create_assignment(
    patient: Patient | str, module_ids: list[str], valid_days: int, *, unit: Unit | None = None,
    external_ref: str | None = None, created_by: StaffUser | None = None, code: str | None = None,
    is_demo: bool = False,
) -> tuple[Assignment, str]:
    """Create an assignment and return it with its access code.

    `patient` is an existing Patient, or a label for a new one in `unit` (default: the fallback
    unit) with an optional external reference. Flushes but does not commit: the caller owns the
    transaction.
    """
    if isinstance(patient, str):
        label = _clean_label(patient)
        external_ref = " ".join((external_ref or "").split()) or None
        if external_ref and len(external_ref) > EXTERNAL_REF_MAX:
            raise AssignmentError(f"the record number is longer than {EXTERNAL_REF_MAX} characters")
    _check_modules(module_ids)
    _check_days(valid_days)
    if isinstance(patient, str):
        unit = unit or fallback_unit()
        if external_ref and db.session.execute(db.select(Patient.id).where(
                Patient.unit_id == unit.id, Patient.external_ref == external_ref)).first():
            raise AssignmentError(f"a patient with record number {external_ref} is already on this unit")
        patient = Patient(label=label, unit=unit, external_ref=external_ref, created_by=created_by)
        db.session.add(patient)
    now = utcnow()
    assignment = Assignment(
        expires_at=now + timedelta(days=valid_days), is_demo=is_demo, created_by=created_by,
        created_at=now, updated_at=now,
        modules=[AssignmentModule(module_id=m, position=i) for i, m in enumerate(module_ids)],
    )
    issued = issue_code(assignment, code)  # before it joins the session: it has no code hash until then
    assignment.patient = patient
    db.session.add(assignment)
    db.session.flush()
    stats.refresh_assignment(assignment.id)
    return assignment, issued


def reissue_code(assignment: Assignment, valid_days: int) -> str:
    """A new code for the same assignment: the old code stops working, the answers stay. A revoked
    assignment is opened again; an expired one gets `valid_days` more. The caller ends the sessions
    opened with the old code (quiz.sessions.end_for_assignment) in the same transaction."""
    code = issue_code(assignment)
    now = utcnow()
    assignment.revoked_at = None
    if assignment.expires_at <= now:
        _check_days(valid_days)
        assignment.expires_at = now + timedelta(days=valid_days)
    assignment.updated_at = now
    return code


def revoke(assignment: Assignment) -> None:
    now = utcnow()
    assignment.revoked_at = assignment.revoked_at or now
    assignment.updated_at = now


def set_expiry(assignment: Assignment, valid_days: int) -> None:
    """The code works for `valid_days` from now (an expired code works again: same code)."""
    _check_days(valid_days)
    now = utcnow()
    assignment.expires_at = now + timedelta(days=valid_days)
    assignment.updated_at = now


def set_modules(assignment: Assignment, module_ids: list[str]) -> tuple[list[str], list[str]]:
    """Assign exactly these modules (kept in bank order). Answers are never touched: a module taken
    away and given back later shows the progress made before. Returns (added, removed)."""
    current = [link.module_id for link in assignment.modules]
    _check_modules(module_ids, keep=set(current))
    order = {m: i for i, m in enumerate(db.session.execute(
        db.select(Module.id).order_by(Module.position, Module.id)).scalars())}
    wanted = sorted(module_ids, key=lambda m: order.get(m, len(order)))
    added = [m for m in wanted if m not in current]
    removed = [m for m in current if m not in wanted]
    if added or removed or wanted != current:
        by_id = {link.module_id: link for link in assignment.modules}
        assignment.modules = [by_id.get(m) or AssignmentModule(module_id=m) for m in wanted]
        for position, link in enumerate(assignment.modules):
            link.position = position
        assignment.updated_at = utcnow()
        stats.refresh_assignment(assignment.id)
    return added, removed
