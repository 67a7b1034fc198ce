"""Staff accounts and units: the rules, in one place for the command line (`quiz.staff_cli`) and the
admin pages (`quiz.admin`). Each function changes the session's objects, ends sessions where the change
requires it and writes the audit event into the same transaction; the caller commits (or rolls back).

The rule that needs care is "the last active admin cannot be disabled or demoted". Two admins demoting
each other at the same moment must not both succeed, so the check locks the active admins' rows
(`SELECT ... FOR UPDATE` on PostgreSQL): the second transaction waits for the first to commit, then
re-reads the rows and sees one admin left. SQLite has one writer at a time: the check takes the write
lock before it reads (see `_keep_an_admin`), with the same effect. A test runs both on both databases.
"""
from __future__ import annotations

import secrets

from . import audit, sessions
from .assignments import FALLBACK_UNIT
from .extensions import db
from .models import ROLES, StaffUser, Unit
from .passwords import PasswordRuleError, check_rules, hash_password

USERNAME_MAX = 64
DISPLAY_NAME_MAX = 100
UNIT_NAME_MAX = 100
USERNAME_RULE = "A username has 1 to 64 letters, digits, dots, dashes or underscores."
# Generated passwords: no look-alikes (0/o, 1/l/i), so they can be read aloud or copied by hand.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class StaffRuleError(ValueError):
    """A change the rules refuse. `field` names the form field the message belongs next to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# --- reading ------------------------------------------------------------------------------------------

def clean_username(raw: str) -> str:
    username = (raw or "").strip().lower()
    if not username or len(username) > USERNAME_MAX or not all(c.isalnum() or c in "._-" for c in username):
        raise StaffRuleError(USERNAME_RULE, "username")
    return username


def clean_unit_name(raw: str) -> str:
    name = " ".join((raw or "").split())
    if not name or len(name) > UNIT_NAME_MAX:
        raise StaffRuleError(f"A unit name has 1 to {UNIT_NAME_MAX} characters.", "name")
    return name


def find_user(username: str) -> StaffUser | None:
    return db.session.execute(
        db.select(StaffUser).where(StaffUser.username == (username or "").strip().lower())
    ).scalar_one_or_none()


def find_units(names) -> list[Unit]:
    """The units with these names, in the order given; a clear error for the first unknown one."""
    found = []
    for name in names:
        unit = db.session.execute(db.select(Unit).where(Unit.name == " ".join(name.split()))).scalar_one_or_none()
        if unit is None:
            raise StaffRuleError(f"No unit named {name!r}. Create it first: flask --app wsgi units create {name!r}",
                                 "units")
        found.append(unit)
    return found


def generate_password() -> str:
    """A password shown once to the admin who set it: four groups of five characters (about 98 bits)."""
    while True:
        password = "-".join("".join(secrets.choice(_ALPHABET) for _ in range(5)) for _ in range(4))
        try:
            check_rules(password)
        except PasswordRuleError:  # pragma: no cover - 4 distinct characters are all but certain
            continue
        return password


def _checked_password(password: str, username: str) -> str:
    try:
        check_rules(password, username)
    except PasswordRuleError as error:
        raise StaffRuleError(f"Password refused: {error}.", "password") from None
    return hash_password(password)


# --- the last-admin rule ------------------------------------------------------------------------------

def _keep_an_admin(user: StaffUser, change: str) -> None:
    """Refuse `change` (which would stop `user` being an active admin) when no other active admin
    would remain. Locks the active admins' rows until the caller's transaction ends."""
    if not (user.role == "admin" and user.active):
        return
    with db.session.no_autoflush:
        if db.session.get_bind().dialect.name == "sqlite":
            # SQLite ignores FOR UPDATE and its driver starts a transaction only at the first write, so
            # a read alone would see the state before another admin's change commits. Writing first
            # takes the database's one write lock: the read below then waits for that change.
            db.session.execute(db.update(StaffUser).where(StaffUser.id == user.id).values(role=StaffUser.role))
        admins = db.session.execute(
            db.select(StaffUser.id).where(StaffUser.role == "admin", StaffUser.active.is_(True))
            .with_for_update()
        ).scalars().all()
    if not [admin_id for admin_id in admins if admin_id != user.id]:
        raise StaffRuleError(f"{user.username} is the last active administrator and cannot be {change}. "
                             "Make another account an administrator first.", "role")


# --- changing accounts --------------------------------------------------------------------------------

def create_user(username: str, role: str, units: list[Unit], password: str, display_name: str | None = None) -> StaffUser:
    username = clean_username(username)
    if role not in ROLES:
        raise StaffRuleError(f"Choose a role: {' or '.join(ROLES)}.", "role")
    if db.session.execute(db.select(StaffUser.id).where(StaffUser.username == username)).first():
        raise StaffRuleError(f"A staff account named {username!r} already exists.", "username")
    display_name = " ".join((display_name or "").split()) or username
    if len(display_name) > DISPLAY_NAME_MAX:
        raise StaffRuleError(f"A name has at most {DISPLAY_NAME_MAX} characters.", "display_name")
    user = StaffUser(username=username, display_name=display_name, role=role,
                     password_hash=_checked_password(password, username), units=list(units))
    db.session.add(user)
    db.session.flush()
    audit.record("staff.create", detail={"username": username, "role": role, "units": [u.name for u in units]})
    return user


def update_user(user: StaffUser, *, role: str, units: list[Unit], display_name: str | None = None) -> dict:
    """Set the role, units and (when given) the display name. Returns what changed (also audited)."""
    if role not in ROLES:
        raise StaffRuleError(f"Choose a role: {' or '.join(ROLES)}.", "role")
    if role != "admin":
        _keep_an_admin(user, "demoted")
    changes: dict = {}
    if role != user.role:
        changes["role"] = {"from": user.role, "to": role}
    before, after = sorted(u.name for u in user.units), sorted(u.name for u in units)
    if before != after:
        changes["units"] = {"from": before, "to": after}
    if display_name is not None:
        display_name = " ".join(display_name.split())
        if not display_name or len(display_name) > DISPLAY_NAME_MAX:
            raise StaffRuleError(f"A name has 1 to {DISPLAY_NAME_MAX} characters.", "display_name")
        if display_name != user.display_name:
            changes["display_name"] = {"from": user.display_name, "to": display_name}
    if not changes:
        return changes
    user.role = role
    user.units = list(units)
    if display_name is not None:
        user.display_name = display_name
    if "role" in changes:
        # A role is checked on every request, but end the sessions anyway: whoever had a page open
        # signs in again and sees the pages of their new role, nothing left over.
        changes["sessions_ended"] = sessions.end_for_user(user.id)
    audit.record("staff.update", detail={"username": user.username, **changes})
    return changes


def set_active(user: StaffUser, active: bool, *, actor: StaffUser | None = None) -> int:
    """Enable or disable an account. Disabling ends its sessions at once; returns how many."""
    if active == user.active:
        return 0
    ended = 0
    if not active:
        if actor is not None and actor.id == user.id:
            raise StaffRuleError("You cannot disable your own account. Ask another administrator.")
        _keep_an_admin(user, "disabled")
        user.active = False
        ended = sessions.end_for_user(user.id)
        audit.record("staff.disable", detail={"username": user.username, "sessions_ended": ended})
    else:
        user.active = True
        audit.record("staff.enable", detail={"username": user.username})
    return ended


def reset_password(user: StaffUser, password: str) -> int:
    """Set a new password and end the account's sessions; returns how many were ended."""
    user.password_hash = _checked_password(password, user.username)
    ended = sessions.end_for_user(user.id)
    audit.record("staff.password_reset", detail={"username": user.username, "sessions_ended": ended})
    return ended


# --- units --------------------------------------------------------------------------------------------

def _name_is_free(name: str, unit_id: int | None = None) -> None:
    query = db.select(Unit.id).where(db.func.lower(Unit.name) == name.lower())
    if unit_id is not None:
        query = query.where(Unit.id != unit_id)
    if db.session.execute(query).first():
        raise StaffRuleError(f"A unit named {name!r} already exists.", "name")


def create_unit(raw_name: str) -> Unit:
    name = clean_unit_name(raw_name)
    _name_is_free(name)
    unit = Unit(name=name)
    db.session.add(unit)
    db.session.flush()
    audit.record("unit.create", unit=unit, detail={"name": name})
    return unit


def rename_unit(unit: Unit, raw_name: str) -> bool:
    """Rename a unit; False when the name is unchanged. The fallback unit keeps its name: commands
    that assign without a unit find it by that name."""
    name = clean_unit_name(raw_name)
    if name == unit.name:
        return False
    if unit.name == FALLBACK_UNIT:
        raise StaffRuleError(f"The {FALLBACK_UNIT!r} unit keeps its name: patients assigned without a unit "
                             "are put there.", "name")
    _name_is_free(name, unit.id)
    before, unit.name = unit.name, name
    audit.record("unit.rename", unit=unit, detail={"from": before, "to": name})
    return True
