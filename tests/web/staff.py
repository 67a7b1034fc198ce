"""Staff test helpers: a small hospital (two units, a nurse on each, an admin, a patient on each unit)
and signing in through the real form."""
from __future__ import annotations

from dataclasses import dataclass

from quiz.assignments import create_assignment, format_code
from quiz.extensions import db
from quiz.models import StaffUser, Unit
from quiz.passwords import hash_password
from tests.conftest import csrf_token

PASSWORD = "correct horse battery"


def add_unit(name: str) -> Unit:
    unit = Unit(name=name)
    db.session.add(unit)
    db.session.flush()
    return unit


def add_staff(username: str, role: str, units: list[Unit], password: str = PASSWORD, active: bool = True) -> StaffUser:
    user = StaffUser(username=username, display_name=username.title(), role=role, units=units,
                     password_hash=hash_password(password), active=active)
    db.session.add(user)
    db.session.flush()
    return user


@dataclass(frozen=True)
class Ward:
    unit_id: int          # Ward A: where `nurse` works and `assignment_id` lives
    other_unit_id: int    # Ward B: `other_nurse` and `other_assignment_id`
    assignment_id: int
    code: str
    other_assignment_id: int
    other_code: str
    other_nurse_id: int
    nurse: str = "nina"
    other_nurse: str = "omar"
    admin: str = "ada"


def build_ward(app) -> Ward:
    with app.app_context():
        ward_a, ward_b = add_unit("Ward A"), add_unit("Ward B")
        add_staff("nina", "nurse", [ward_a])
        omar = add_staff("omar", "nurse", [ward_b])
        add_staff("ada", "admin", [])
        mine, code = create_assignment("Bed 3", ["stopping-safely", "kidney-health"], 14, unit=ward_a)
        theirs, other_code = create_assignment("Bed 4", ["stopping-safely"], 14, unit=ward_b)
        db.session.commit()
        return Ward(ward_a.id, ward_b.id, mine.id, format_code(code), theirs.id, format_code(other_code), omar.id)


def sign_in(client, username: str, password: str = PASSWORD, **headers):
    token = form_token(client, "/staff/sign-in")
    return client.post("/staff/sign-in", data={"username": username, "password": password, "csrf_token": token},
                       headers=headers)


def form_token(client, path: str) -> str:
    """The CSRF token of the page at `path`, or "" when the app runs with CSRF off."""
    page = client.get(path, follow_redirects=True).text
    return csrf_token(page) if 'name="csrf_token"' in page else ""
