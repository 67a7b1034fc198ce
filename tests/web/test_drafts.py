"""Draft questions (no review) are never shown to patients; a module with none reviewed is not
assignable, and an already assigned one says so instead of crashing."""
from __future__ import annotations

import shutil

import pytest
import yaml

from quiz.assignments import AssignmentError, create_assignment, ready_module_ids
from quiz.bank import load_bank, sync_bank
from quiz.extensions import db
from quiz.models import Question
from tests.conftest import QUESTIONS_DIR
from tests.web.patient import Patient, seen, text


def reload_with(app, tmp_path, change):
    """Copy the real bank, let `change(data)` edit stopping-safely.yaml, and load it."""
    shutil.copytree(QUESTIONS_DIR, tmp_path / "bank", dirs_exist_ok=True)
    path = tmp_path / "bank" / "stopping-safely.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with app.app_context():
        sync_bank(load_bank(tmp_path / "bank"))
        db.session.commit()


def unreview(*ids):
    def change(data):
        for q in data["questions"]:
            if q["id"] in ids:
                q.pop("reviewed_on", None)
                q.pop("reviewed_by_role", None)
    return change


def test_a_draft_question_is_never_served(app, client, assignment_code, tmp_path):
    first = Patient(client)
    first.start(assignment_code)
    _, question = first.question_on(first.card().text)
    reload_with(app, tmp_path, unreview(question.id))
    _, now_first = first.question_on(first.card().text)
    assert now_first.id != question.id
    for _ in range(30):  # answer everything, wrongly at first: the draft never appears
        page = first.card()
        if "You have finished this topic" in text(page):
            break
        response, asked = first.answer(correct=False, page=page.text)
        assert asked.id != question.id
        first.next()
        page = first.card()
        if "You have finished this topic" in text(page):
            break
        _, asked = first.question_on(page.text)
        assert asked.id != question.id
        first.answer(correct=True, page=page.text)
        first.next()


def test_a_module_with_no_reviewed_questions_is_not_assignable(app, tmp_path):
    with app.app_context():
        ids = [q.id for q in db.session.execute(
            db.select(Question).where(Question.module_id == "stopping-safely")).scalars()]
    reload_with(app, tmp_path, unreview(*ids))
    with app.app_context():
        assert "stopping-safely" not in ready_module_ids()
        with pytest.raises(AssignmentError, match="no reviewed questions yet: stopping-safely"):
            create_assignment("Bed 3", ["stopping-safely"], 14)


def test_an_assigned_module_whose_questions_went_back_to_review_says_so(app, client, assignment_code, tmp_path):
    Patient(client).start(assignment_code)
    with app.app_context():
        ids = [q.id for q in db.session.execute(
            db.select(Question).where(Question.module_id == "stopping-safely")).scalars()]
    reload_with(app, tmp_path, unreview(*ids))
    response = client.get("/quiz/stopping-safely")
    assert response.status_code == 200
    assert "This topic is not ready" in text(response)
    assert "You have finished" not in text(response)


def test_the_real_allergy_drafts_are_not_served(app):
    from quiz.patient.service import served_questions
    from quiz.models import Module

    bank_drafts = {q.id for q in load_bank(QUESTIONS_DIR).questions if q.is_draft}
    with app.app_context():
        served = {q.id for m in db.session.execute(db.select(Module)).scalars() for q in served_questions(m)}
        assert bank_drafts and not (bank_drafts & served)
        assert seen(app, next(iter(served))).prompt
