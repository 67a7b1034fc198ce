"""Staff commands through the test CLI runner: users, units, audit tail, assign --unit."""
from __future__ import annotations

import pytest

from quiz.extensions import db
from quiz.models import AuditEvent, StaffUser, Unit, WebSession
from quiz.passwords import verify

GOOD = "a long enough password"


@pytest.fixture
def units(ctx, runner):
    for name in ("Ward 5", "Ward 6"):
        assert runner.invoke(args=["units", "create", name]).exit_code == 0


def user(username: str) -> StaffUser:
    db.session.expire_all()
    return db.session.execute(db.select(StaffUser).filter_by(username=username)).scalar_one()


def test_units_create_refuses_duplicates(ctx, runner):
    assert runner.invoke(args=["units", "create", "  Ward   5 "]).output == "Created unit Ward 5.\n"
    result = runner.invoke(args=["units", "create", "Ward 5"])
    assert result.exit_code == 1 and "already exists" in result.output
    assert db.session.execute(db.select(db.func.count(Unit.id))).scalar_one() == 1


def test_users_create_reads_the_password_twice_from_a_prompt(units, runner):
    result = runner.invoke(args=["users", "create", "--role", "nurse", "--username", "Nina", "--unit", "Ward 5",
                                 "--unit", "Ward 6", "--name", "Nina R., RN"], input=f"{GOOD}\n{GOOD}\n")
    assert result.exit_code == 0, result.output
    assert "Created nurse nina on Ward 5, Ward 6." in result.output
    assert GOOD not in result.output
    nina = user("nina")
    assert nina.role == "nurse" and nina.display_name == "Nina R., RN" and nina.active
    assert [u.name for u in nina.units] == ["Ward 5", "Ward 6"]
    assert nina.password_hash.startswith("$argon2id$") and GOOD not in nina.password_hash
    assert verify(nina.password_hash, GOOD) and not verify(nina.password_hash, GOOD + "!")


def test_users_create_takes_the_password_from_the_environment_for_scripts(units, runner, monkeypatch):
    monkeypatch.setenv("STAFF_PASSWORD", GOOD)
    result = runner.invoke(args=["users", "create", "--role", "admin", "--username", "ada"])
    assert result.exit_code == 0, result.output
    assert user("ada").is_admin


def test_users_create_has_no_password_argument(units, runner):
    result = runner.invoke(args=["users", "create", "--role", "nurse", "--username", "x", "--password", GOOD])
    assert result.exit_code == 2 and "No such option" in result.output


@pytest.mark.parametrize("args, stdin, message", [
    (["--role", "nurse", "--username", "bad name"], "", "letters, digits, dots"),
    (["--role", "matron", "--username", "m"], "", "Invalid value for '--role'"),
    (["--role", "nurse", "--username", "n", "--unit", "Ward 9"], "", "No unit named 'Ward 9'"),
    (["--role", "nurse", "--username", "n"], "short\nshort\n", "at least 12 characters"),
    (["--role", "nurse", "--username", "n"], f"{GOOD}\nsomething else\n", "do not match"),
    (["--role", "nurse", "--username", "maryanne"], "maryanne1234567\nmaryanne1234567\n", "must not contain the username"),
])
def test_users_create_refuses_bad_input(units, runner, args, stdin, message):
    result = runner.invoke(args=["users", "create", *args], input=stdin)
    assert result.exit_code != 0 and message in result.output, result.output
    assert db.session.execute(db.select(db.func.count(StaffUser.id))).scalar_one() == 0


def test_users_create_refuses_a_taken_username(units, runner, monkeypatch):
    monkeypatch.setenv("STAFF_PASSWORD", GOOD)
    runner.invoke(args=["users", "create", "--role", "nurse", "--username", "nina"])
    result = runner.invoke(args=["users", "create", "--role", "admin", "--username", "NINA"])
    assert result.exit_code == 1 and "already exists" in result.output


def test_disable_enable_reset_and_list(units, runner, monkeypatch):
    monkeypatch.setenv("STAFF_PASSWORD", GOOD)
    runner.invoke(args=["users", "create", "--role", "nurse", "--username", "nina", "--unit", "Ward 5"])
    listing = runner.invoke(args=["users", "list"]).output
    assert "nina" in listing and "active" in listing and "never" in listing and "Ward 5" in listing
    assert runner.invoke(args=["users", "disable", "nina"]).exit_code == 0
    assert not user("nina").active and "disabled" in runner.invoke(args=["users", "list"]).output
    assert runner.invoke(args=["users", "enable", "nina"]).exit_code == 0 and user("nina").active
    monkeypatch.setenv("STAFF_PASSWORD", "another long password")
    result = runner.invoke(args=["users", "reset-password", "nina"])
    assert result.exit_code == 0 and "New password set for nina" in result.output
    assert verify(user("nina").password_hash, "another long password")
    assert runner.invoke(args=["users", "disable", "nobody"]).exit_code == 1
    actions = list(db.session.execute(db.select(AuditEvent.action).order_by(AuditEvent.id)).scalars())
    assert actions == ["unit.create", "unit.create", "staff.create", "staff.disable", "staff.enable",
                       "staff.password_reset"]
    assert {e.actor_name for e in db.session.execute(db.select(AuditEvent)).scalars()} == {"cli"}


def test_reset_password_ends_open_sessions(app, ward, runner, monkeypatch):
    from tests.web.staff import sign_in

    client = app.test_client()
    sign_in(client, ward.nurse)
    monkeypatch.setenv("STAFF_PASSWORD", GOOD)
    assert "ended 1 session(s)" in runner.invoke(args=["users", "reset-password", ward.nurse]).output
    assert client.get("/nurse/").status_code == 303
    with app.app_context():
        assert db.session.execute(db.select(WebSession)).scalar_one().ended_at is not None


def test_audit_tail_prints_the_latest_entries_oldest_first(app, ward, runner):
    from tests.web.staff import sign_in

    sign_in(app.test_client(), ward.nurse, "wrong password!")
    sign_in(app.test_client(), ward.nurse)
    app.test_client()  # nothing
    result = runner.invoke(args=["audit", "tail", "-n", "2"])
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 2
    assert "staff.sign_in_failed" in lines[0] and "nina" in lines[0] and "127.0.0.1" in lines[0]
    assert "staff.sign_in " in lines[1]


def test_audit_tail_on_an_empty_log(runner):
    assert runner.invoke(args=["audit", "tail"]).output == "The audit log is empty.\n"


def test_assign_can_name_the_unit(units, runner):
    result = runner.invoke(args=["assign", "--patient", "Bed 2", "--module", "stopping-safely", "--unit", "Ward 6"])
    assert result.exit_code == 0, result.output
    event = db.session.execute(db.select(AuditEvent).filter_by(action="assignment.create")).scalar_one()
    assert db.session.get(Unit, event.unit_id).name == "Ward 6" and event.actor_name == "cli"
    assert runner.invoke(args=["assign", "--patient", "Bed 2", "--module", "stopping-safely", "--unit", "Nope"]).exit_code == 2


def test_the_cli_keeps_the_last_active_admin(ctx, runner, monkeypatch):
    monkeypatch.setenv("STAFF_PASSWORD", GOOD)
    runner.invoke(args=["users", "create", "--role", "admin", "--username", "ada"])
    for args in (["users", "disable", "ada"], ["users", "set-role", "ada", "nurse"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 1 and "ada is the last active administrator" in result.output, args
    assert user("ada").is_admin and user("ada").active
    runner.invoke(args=["users", "create", "--role", "nurse", "--username", "nina"])
    assert runner.invoke(args=["users", "set-role", "nina", "admin"]).output == "nina is now admin.\n"
    assert runner.invoke(args=["users", "set-role", "ada", "nurse"]).exit_code == 0
    assert not user("ada").is_admin
    actions = list(db.session.execute(db.select(AuditEvent.action).order_by(AuditEvent.id)).scalars())
    assert actions == ["staff.create", "staff.create", "staff.update", "staff.update"]


def test_units_rename(units, runner):
    assert runner.invoke(args=["units", "rename", "Ward 5", "Ward 5 North"]).output == "The unit is now called Ward 5 North.\n"
    result = runner.invoke(args=["units", "rename", "Ward 6", "ward 5 north"])
    assert result.exit_code == 1 and "already exists" in result.output
    assert runner.invoke(args=["units", "rename", "Ward 9", "X"]).exit_code == 1
    assert sorted(db.session.execute(db.select(Unit.name)).scalars()) == ["Ward 5 North", "Ward 6"]


def test_questions_check_and_load_record_their_result_for_the_admin_pages(ctx, runner, bank_dir):
    from quiz.bank_status import latest_check, loaded_fingerprint
    from tests.bankfiles import module_file, write

    assert runner.invoke(args=["questions", "check"]).exit_code == 0
    check = latest_check()
    assert check.command == "check" and check.ok and check.problems == []
    assert check.fingerprint == loaded_fingerprint()  # the test database holds the real bank
    assert {m["id"] for m in check.modules} >= {"stopping-safely", "kidney-health"}
    rows = {(r["module"], r["question"]): r for r in check.readability}
    assert {m["id"] for m in check.modules} == {module for module, question in rows if question is None}
    assert rows[("stopping-safely", "stop-feel-better")]["level"] in ("ok", "warning")
    write(bank_dir, "broken.yaml", module_file("broken", questions=[]))
    result = runner.invoke(args=["questions", "load", "--dir", str(bank_dir)])
    assert result.exit_code == 1
    check = latest_check()
    assert check.command == "load" and not check.ok and check.problems and check.fingerprint is None


def test_questions_check_works_where_the_database_is_not_set_up(tmp_path):
    from tests.conftest import make_app

    database = tmp_path / "empty.sqlite3"
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}")
    result = app.test_cli_runner().invoke(args=["questions", "check", "--no-table"])
    assert result.exit_code == 0, result.output
    assert "Question bank OK" in result.output and "does not exist yet" in result.output
    assert not database.exists()  # checking files creates no database
    database.touch()
    result = app.test_cli_runner().invoke(args=["questions", "check", "--no-table"])
    assert result.exit_code == 0 and "no bank_check table yet" in result.output
