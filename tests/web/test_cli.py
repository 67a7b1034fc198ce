"""The flask commands, run through the test CLI runner."""
from __future__ import annotations

import re
import shutil

from quiz.assignments import find_assignment
from quiz.cli import DEMO_CODE, DEMO_STAFF, DEMO_UNIT
from quiz.extensions import db
from quiz.models import Assignment, Question, StaffUser, Unit
from tests.conftest import QUESTIONS_DIR


def test_questions_check_prints_a_summary(runner, bank):
    result = runner.invoke(args=["questions", "check"])
    assert result.exit_code == 0, result.output
    assert "Question bank OK" in result.output
    assert (
        f"{len(bank.modules)} modules, {len(bank.questions)} questions, "
        f"{bank.citation_count} citations verified in 5 sources." in result.output
    )


def test_questions_check_fails_on_a_bad_bank(runner, tmp_path):
    shutil.copytree(QUESTIONS_DIR, tmp_path / "bank")
    path = tmp_path / "bank" / "kidney-health.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("type: single", "type: essay", 1), encoding="utf-8")
    result = runner.invoke(args=["questions", "check", "--dir", str(tmp_path / "bank")])
    assert result.exit_code == 1
    assert "kidney-health.yaml, question" in result.output
    assert "'type' must be one of" in result.output
    assert "Nothing was changed." in result.output


def test_questions_load_is_idempotent(runner):
    result = runner.invoke(args=["questions", "load"])
    assert result.exit_code == 0, result.output
    assert "Question bank unchanged" in result.output


def test_questions_load_refuses_a_bad_bank_and_keeps_the_last_good_one(ctx, runner, tmp_path):
    shutil.copytree(QUESTIONS_DIR, tmp_path / "bank")
    path = tmp_path / "bank" / "kidney-health.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("prompt: ", "prompt: Changed. ", 1).replace("quote: \"", "quote: \"Invented ", 1),
                    encoding="utf-8")
    before = {q.id: q.current_fingerprint for q in db.session.execute(db.select(Question)).scalars()}
    result = runner.invoke(args=["questions", "load", "--dir", str(tmp_path / "bank")])
    assert result.exit_code == 1
    db.session.expire_all()
    after = {q.id: q.current_fingerprint for q in db.session.execute(db.select(Question)).scalars()}
    assert after == before


def test_assign_prints_code_and_link(ctx, runner):
    result = runner.invoke(args=["assign", "--patient", "Bed 9", "--module", "stopping-safely",
                                 "--module", "kidney-health"])
    assert result.exit_code == 0, result.output
    code = re.search(r"access code: (\w{5}-\w{5})", result.output).group(1)
    assert f"/start/{code}" in result.output
    assignment = find_assignment(code)
    assert assignment.patient_label == "Bed 9"
    assert [m.module_id for m in assignment.modules] == ["stopping-safely", "kidney-health"]


def test_assign_refuses_an_unknown_module(ctx, runner):
    result = runner.invoke(args=["assign", "--patient", "Bed 9", "--module", "no-such-module"])
    assert result.exit_code == 2
    assert "unknown module(s): no-such-module" in result.output
    assert db.session.execute(db.select(db.func.count(Assignment.id))).scalar_one() == 0


def test_demo_is_refused_outside_development(runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 1
    assert "only created with QUIZ_ENV=development" in result.output


def test_demo_runs_twice_without_duplicating(app, ctx, runner):
    app.config["DEMO_DATA_ALLOWED"] = True
    first = runner.invoke(args=["demo"])
    second = runner.invoke(args=["demo"])
    assert first.exit_code == second.exit_code == 0, first.output + second.output
    assert "Created the demo assignment." in first.output
    assert "Created the demo nurse." in first.output and "Created the demo admin." in first.output
    assert "Created" not in second.output
    assert "CHECK-34779" in second.output
    for username, role, password in DEMO_STAFF:
        assert f"username {username}, password {password}" in second.output
    assert db.session.execute(db.select(db.func.count(Assignment.id))).scalar_one() == 1
    assert db.session.execute(db.select(db.func.count(StaffUser.id))).scalar_one() == 2
    assert db.session.execute(db.select(db.func.count(Unit.id))).scalar_one() == 1
    demo = find_assignment(DEMO_CODE)
    assert demo.is_demo and demo.patient.unit.name == DEMO_UNIT
