"""The results page: a real ending ("show this screen to your nurse"), who and when, the medicine, the
get-help box from bank.yaml with the deployment's emergency number, and the take-home sheet."""
from __future__ import annotations

import re
import shutil
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from quiz.assignments import create_assignment
from quiz.bank import load_bank, sync_bank
from quiz.extensions import db
from quiz.grading import ASK_NURSE_AFTER_MISSES
from tests.conftest import QUESTIONS_DIR, make_app
from tests.web.patient import Patient, text
from tests.web.test_patient_routes import complete_module


@pytest.fixture
def deployed(app):
    """The app as a hospital in another country might configure it (read on every page)."""
    app.config.update(EMERGENCY_NUMBER="999", HOSPITAL_CONTACT="Ward 7, Riverside Hospital, 020 7946 0000",
                      DISPLAY_TIMEZONE="Pacific/Kiritimati")
    return app


def start(app, module_ids, label="Bed 12 (J. S.)"):
    with app.app_context():
        _, code = create_assignment(label, list(module_ids), 14)
        db.session.commit()
    client = app.test_client()
    Patient(client).start(code)
    return client


def test_results_so_far_name_the_patient_the_date_the_medicine_and_when_to_get_help(deployed, bank):
    client = start(deployed, ["stopping-safely"])
    body = text(client.get("/summary"))
    assert "Your results so far" in body and "Please show this screen to your nurse" not in body
    assert "Bed 12 (J. S.)" in body
    today = datetime.now(ZoneInfo("Pacific/Kiritimati")).date()  # UTC+14: often a day ahead of UTC
    assert f"{today.day} {today:%B %Y}" in body
    assert f"<dd>{bank.meta.medicine}</dd>" in body and f"What to remember about {bank.meta.medicine}" in body
    box = body[body.index('class="get-help"'):body.index("</section>", body.index('class="get-help"'))]
    assert "Call <strong class=\"emergency-number\">999</strong>" in box and "911" not in box
    for sign in bank.meta.get_help_now:
        assert f"<li>{sign.text}</li>" in box
    assert "Contact Ward 7, Riverside Hospital, 020 7946 0000" in body


def test_finishing_everything_is_a_real_ending(client, app, bank):
    modules = [m.id for m in bank.modules if m.critical][:2]
    client = start(app, modules)
    first = Patient(client, modules[0])
    complete_module(first, miss_first=True)  # one key point learned after a second try
    second = Patient(client, modules[1])
    missed, misses = None, 0
    for _ in range(40):  # miss one key point until it is parked for the nurse; the rest right
        page = second.card()
        if "You have finished this topic" in text(page):
            break
        _, question = second.question_on(page.text)
        missed = missed or question.key_point
        wrong = question.key_point == missed and misses < ASK_NURSE_AFTER_MISSES
        misses += wrong
        second.answer(correct=not wrong, page=page.text)
        second.next()
    body = text(client.get("/summary"))
    assert "You have finished" in body and "Please show this screen to your nurse." in body
    nurse = body[body.index("Go over these with your nurse"):body.index("Learned after a second try")]
    retried = body[body.index("Learned after a second try"):body.index("How you did")]
    assert missed in nurse and missed not in retried
    assert len(re.findall(r"<li>", retried)) == 1
    topics = text(client.get("/quiz"))
    assert "You have finished every topic" in topics and 'href="/summary">See my results' in topics


def test_a_bank_without_bank_yaml_still_says_when_to_get_help(bank, tmp_path):
    shutil.copytree(QUESTIONS_DIR, tmp_path / "bank")
    (tmp_path / "bank" / "bank.yaml").unlink()
    app = make_app(QUESTIONS_DIR=str(tmp_path / "bank"))
    with app.app_context():
        db.create_all()
        sync_bank(load_bank(tmp_path / "bank"))
        db.session.commit()
    body = text(start(app, ["stopping-safely"]).get("/summary"))
    assert "If you feel very unwell, call" in body and "911" in body
    assert "What to remember</p>" in body and "Medicine" not in body.split("What to remember")[1][:200]
    with app.app_context():
        db.session.close()
        db.drop_all()


def test_an_invalid_bank_yaml_at_run_time_is_logged_and_the_general_line_shown(bank, tmp_path, monkeypatch):
    shutil.copytree(QUESTIONS_DIR, tmp_path / "bank")
    (tmp_path / "bank" / "bank.yaml").write_text("medicine: baclofen\nget_help_now: []\n", encoding="utf-8")
    app = make_app(QUESTIONS_DIR=str(tmp_path / "bank"))
    with app.app_context():
        db.create_all()
        sync_bank(bank)
        db.session.commit()
    logged = []  # (the migration tests' logging setup can switch off app loggers, so no caplog)
    monkeypatch.setattr(app.logger, "error", lambda message, *args: logged.append(message % args))
    body = text(start(app, ["stopping-safely"]).get("/summary"))
    assert "If you feel very unwell, call" in body
    assert len(logged) == 1 and "bank.yaml is invalid" in logged[0] and "get_help_now" in logged[0]
    with app.app_context():
        db.session.close()
        db.drop_all()


def test_an_unknown_time_zone_stops_the_app_from_starting():
    from quiz.config import ConfigError

    with pytest.raises(ConfigError, match="DISPLAY_TIMEZONE"):
        make_app(DISPLAY_TIMEZONE="Mars/Olympus_Mons")
