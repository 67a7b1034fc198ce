"""The staff-account rules (`quiz.staff_accounts`), called directly as the CLI and the admin pages do:
the last active admin, sessions ended, audit events, unit names, generated passwords; and two admins
demoting each other at the same moment on PostgreSQL."""
from __future__ import annotations

import os
import threading

import pytest
from sqlalchemy import create_engine

from quiz import staff_accounts
from quiz.extensions import db
from quiz.models import AuditEvent, StaffUser, WebSession, utcnow
from quiz.passwords import check_rules, verify
from quiz.staff_accounts import StaffRuleError
from tests.conftest import make_app
from tests.web.staff import add_staff, add_unit

GOOD = "a long enough password"


def actions() -> list[str]:
    return list(db.session.execute(db.select(AuditEvent.action).order_by(AuditEvent.id)).scalars())


def open_session(user: StaffUser) -> WebSession:
    row = WebSession(key=f"k{user.id}-{utcnow().timestamp()}", kind="staff", user_id=user.id,
                     expires_at=utcnow().replace(year=utcnow().year + 1))
    db.session.add(row)
    db.session.flush()
    return row


def test_the_last_active_admin_cannot_be_disabled_or_demoted(ctx):
    ada = add_staff("ada", "admin", [])
    with pytest.raises(StaffRuleError, match="last active administrator"):
        staff_accounts.set_active(ada, False)
    with pytest.raises(StaffRuleError, match="last active administrator") as refused:
        staff_accounts.update_user(ada, role="nurse", units=[])
    assert refused.value.field == "role"
    assert ada.is_admin and ada.active and actions() == []


def test_a_disabled_admin_does_not_count(ctx):
    ada = add_staff("ada", "admin", [])
    add_staff("bob", "admin", [], active=False)
    with pytest.raises(StaffRuleError):
        staff_accounts.update_user(ada, role="nurse", units=[])


def test_with_another_active_admin_either_may_go(ctx):
    ada, bob = add_staff("ada", "admin", []), add_staff("bob", "admin", [])
    changes = staff_accounts.update_user(ada, role="nurse", units=[])
    assert changes["role"] == {"from": "admin", "to": "nurse"} and not ada.is_admin
    with pytest.raises(StaffRuleError):  # now bob is the last one
        staff_accounts.set_active(bob, False)
    staff_accounts.update_user(ada, role="admin", units=[])
    assert staff_accounts.set_active(bob, False) == 0 and not bob.active


def test_nobody_disables_their_own_account(ctx):
    ada, _ = add_staff("ada", "admin", []), add_staff("bob", "admin", [])
    with pytest.raises(StaffRuleError, match="your own account"):
        staff_accounts.set_active(ada, False, actor=ada)


def test_disabling_and_resetting_end_sessions_and_are_audited(ctx):
    ward = add_unit("Ward 5")
    nina = add_staff("nina", "nurse", [ward])
    first, second = open_session(nina), open_session(nina)
    assert staff_accounts.set_active(nina, False) == 2
    assert first.ended_at is None  # the objects are stale; the rows are not
    db.session.expire_all()
    assert first.ended_at is not None and second.ended_at is not None
    assert staff_accounts.set_active(nina, True) == 0 and nina.active
    third = open_session(nina)
    assert staff_accounts.reset_password(nina, GOOD) == 1
    db.session.expire_all()
    assert third.ended_at is not None and verify(nina.password_hash, GOOD)
    assert actions() == ["staff.disable", "staff.enable", "staff.password_reset"]
    assert db.session.execute(db.select(AuditEvent.detail)).scalars().first() == {"username": "nina", "sessions_ended": 2}


def test_setting_the_same_state_again_changes_nothing(ctx):
    nina = add_staff("nina", "nurse", [])
    assert staff_accounts.set_active(nina, True) == 0
    assert staff_accounts.update_user(nina, role="nurse", units=[], display_name="Nina") == {}
    assert actions() == []


def test_update_records_what_changed(ctx):
    a, b = add_unit("Ward A"), add_unit("Ward B")
    nina = add_staff("nina", "nurse", [a])
    open_session(nina)
    changes = staff_accounts.update_user(nina, role="admin", units=[a, b], display_name="  Nina  R. ")
    assert changes == {"role": {"from": "nurse", "to": "admin"}, "units": {"from": ["Ward A"], "to": ["Ward A", "Ward B"]},
                       "display_name": {"from": "Nina", "to": "Nina R."}, "sessions_ended": 1}
    assert nina.display_name == "Nina R." and [u.name for u in nina.units] == ["Ward A", "Ward B"]
    event = db.session.execute(db.select(AuditEvent)).scalar_one()
    assert event.action == "staff.update" and event.detail["username"] == "nina"


@pytest.mark.parametrize("username, password, field, message", [
    ("bad name", GOOD, "username", "letters, digits"),
    ("", GOOD, "username", "letters, digits"),
    ("x" * 65, GOOD, "username", "letters, digits"),
    ("nina", "short", "password", "at least 12"),
    ("maryanne", "maryanne1234567", "password", "must not contain the username"),
])
def test_create_refuses_bad_input(ctx, username, password, field, message):
    with pytest.raises(StaffRuleError, match=message) as refused:
        staff_accounts.create_user(username, "nurse", [], password)
    assert refused.value.field == field


def test_create_refuses_a_taken_username_whatever_its_case(ctx):
    staff_accounts.create_user("Nina", "nurse", [], GOOD)
    with pytest.raises(StaffRuleError, match="already exists"):
        staff_accounts.create_user("NINA", "admin", [], GOOD)
    with pytest.raises(StaffRuleError, match="Choose a role"):
        staff_accounts.create_user("omar", "matron", [], GOOD)


def test_unit_names_are_unique_whatever_their_case_and_spacing(ctx):
    ward = staff_accounts.create_unit("  Ward   5 ")
    assert ward.name == "Ward 5"
    for name in ("ward 5", "WARD  5"):
        with pytest.raises(StaffRuleError, match="already exists") as refused:
            staff_accounts.create_unit(name)
        assert refused.value.field == "name"
    other = staff_accounts.create_unit("Ward 6")
    with pytest.raises(StaffRuleError, match="already exists"):
        staff_accounts.rename_unit(other, "ward 5")
    assert staff_accounts.rename_unit(other, "Ward 6") is False
    assert staff_accounts.rename_unit(ward, "ward 5") is True  # a unit may change its own case
    with pytest.raises(StaffRuleError, match="1 to 100"):
        staff_accounts.rename_unit(ward, "   ")
    assert actions() == ["unit.create", "unit.create", "unit.rename"]


def test_the_fallback_unit_keeps_its_name(ctx):
    from quiz.assignments import fallback_unit

    with pytest.raises(StaffRuleError, match="keeps its name"):
        staff_accounts.rename_unit(fallback_unit(), "Somewhere")


def test_generated_passwords_meet_the_rules_and_differ(ctx):
    made = {staff_accounts.generate_password() for _ in range(50)}
    assert len(made) == 50
    for password in made:
        check_rules(password)
        assert len(password) == 23 and not set(password) & set("0o1li")


# --- two admins demoting each other at once (PostgreSQL: real concurrent transactions) ----------------

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "")


def postgres_available() -> bool:
    if not POSTGRES_URL.startswith("postgresql"):
        return False
    try:
        with create_engine(POSTGRES_URL, connect_args={"connect_timeout": 2}).connect():
            return True
    except Exception:
        return False


@pytest.fixture(params=["postgresql", "sqlite file"])
def shared_app(request, tmp_path):
    """An app whose database two threads really share: PostgreSQL, or SQLite in a file (WAL)."""
    if request.param == "postgresql":
        if not postgres_available():
            if os.environ.get("CI"):
                pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL!r}")
            pytest.skip("PostgreSQL is not reachable (set TEST_POSTGRES_URL)")
        url = POSTGRES_URL
    else:
        url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    app = make_app(SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        db.drop_all()
        db.create_all()
        add_staff("ada", "admin", [])
        add_staff("bob", "admin", [])
        db.session.commit()
    yield app
    with app.app_context():
        db.session.close()
        db.drop_all()
        db.engine.dispose()


def test_two_admins_demoting_each_other_at_once_leave_one_admin(shared_app):
    """Ada demotes Bob and Bob demotes Ada in two transactions that overlap: Ada's has checked and
    written but not committed when Bob's checks. Bob's must wait for it, then refuse."""
    ada_wrote, results = threading.Event(), {}

    def demote(actor: str, target: str):
        with shared_app.app_context():
            user = staff_accounts.find_user(target)
            try:
                if actor == "bob":
                    ada_wrote.wait(10)
                staff_accounts.update_user(user, role="nurse", units=[])
                db.session.flush()
                if actor == "ada":
                    ada_wrote.set()
                    # Hold the transaction open while Bob's check runs (it blocks on the lock).
                    threading.Event().wait(0.5)
                db.session.commit()
                results[actor] = "done"
            except StaffRuleError as error:
                db.session.rollback()
                results[actor] = str(error)

    threads = [threading.Thread(target=demote, args=("ada", "bob")), threading.Thread(target=demote, args=("bob", "ada"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert results["ada"] == "done"
    assert "ada is the last active administrator" in results["bob"]
    with shared_app.app_context():
        admins = db.session.execute(
            db.select(StaffUser.username).where(StaffUser.role == "admin", StaffUser.active.is_(True))
        ).scalars().all()
        assert admins == ["ada"]
