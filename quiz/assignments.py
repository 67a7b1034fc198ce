"""Assignments and their access codes: creating them (CLI today, the nurse pages later) and finding the
assignment a patient's code opens.

A code is 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L), shown as `ABCD-EFGH`:
31^8 ≈ 8.5e11 possibilities, tried at most a few times a minute per address (see the rate limit on the
start page). Only an HMAC-SHA-256 of the normalised code is stored, keyed with `ACCESS_CODE_KEY`
(default: `SECRET_KEY`), so a copy of the database alone is not enough to recover codes by trying them
all. Changing that key ends every outstanding code (nurses issue new ones). The code is printed once.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from flask import current_app

from .extensions import db
from .models import Assignment, AssignmentModule, Module, Question, QuestionVersion, utcnow

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
LABEL_MAX = 100


class AssignmentError(ValueError):
    """The assignment cannot be created as asked (unknown module, empty label ...)."""


def normalise_code(raw: str) -> str:
    """Upper-case and drop spaces and dashes, so `abcd efgh`, `ABCD-EFGH` and `abcdefgh` are one code."""
    return re.sub(r"[\s\-\u2010-\u2015]", "", raw or "").upper()


def format_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def hash_code(raw: str) -> str:
    key = current_app.config["ACCESS_CODE_KEY"].encode("utf-8")
    return hmac.new(key, normalise_code(raw).encode("utf-8"), hashlib.sha256).hexdigest()


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


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
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        return None
    assignment = db.session.execute(
        db.select(Assignment).where(Assignment.code_hash == hash_code(code))
    ).scalar_one_or_none()
    if assignment is None or not assignment.is_usable(now):
        return None
    return assignment


def create_assignment(
    patient_label: str, module_ids: list[str], valid_days: int, *, code: str | None = None,
    is_demo: bool = False,
) -> tuple[Assignment, str]:
    """Create an assignment and return it with its access code (the only time the code is known).

    Flushes but does not commit: the caller owns the transaction.
    """
    label = " ".join((patient_label or "").split())
    if not label:
        raise AssignmentError("a patient label is needed (for example a bed or initials, not a full name)")
    if len(label) > LABEL_MAX:
        raise AssignmentError(f"the patient label is longer than {LABEL_MAX} characters")
    if not module_ids:
        raise AssignmentError("choose at least one module")
    if len(set(module_ids)) != len(module_ids):
        raise AssignmentError("a module is listed twice")
    if valid_days < 1:
        raise AssignmentError("an access code must stay valid for at least one day")
    live = set(db.session.execute(
        db.select(Module.id).where(Module.id.in_(module_ids), Module.retired_at.is_(None))
    ).scalars())
    unknown = [m for m in module_ids if m not in live]
    if unknown:
        raise AssignmentError(f"unknown module(s): {', '.join(unknown)}")
    ready = set(ready_module_ids(module_ids))
    not_ready = [m for m in module_ids if m not in ready]
    if not_ready:
        raise AssignmentError(f"module(s) with no reviewed questions yet: {', '.join(not_ready)}")

    for _ in range(5):
        candidate = normalise_code(code) if code else new_code()
        code_hash = hash_code(candidate)
        in_use = db.session.execute(
            db.select(Assignment.id).where(Assignment.code_hash == code_hash)
        ).first()
        if in_use:
            if code:
                raise AssignmentError("that access code is already in use")
            continue  # a random code collided with an existing one (about 1 in 10^11): draw again
        # The unique constraint on code_hash still guards the (vanishing) race with a concurrent
        # insert of the same code; it then fails the caller's transaction rather than share a code.
        assignment = Assignment(
            patient_label=label, code_hash=code_hash,
            expires_at=utcnow() + timedelta(days=valid_days), is_demo=is_demo,
            modules=[AssignmentModule(module_id=m, position=i) for i, m in enumerate(module_ids)],
        )
        db.session.add(assignment)
        db.session.flush()
        return assignment, candidate
    raise AssignmentError("could not draw an unused access code")
