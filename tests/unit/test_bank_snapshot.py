"""The in-memory bank (quiz.bank.snapshot): the revision token changes with every change to the bank
tables and only then, and the snapshot serves what `served_questions` serves."""
from __future__ import annotations

import shutil

from flask import g

from quiz.bank import load_bank, snapshot, sync_bank
from quiz.extensions import db
from quiz.models import BankRevision, Question
from quiz.patient.service import served_questions
from tests.conftest import QUESTIONS_DIR


def token() -> str:
    return db.session.execute(db.select(BankRevision.token)).scalar_one()


def test_an_unchanged_reload_keeps_the_token_and_an_edit_renews_it(app, bank, tmp_path):
    with app.app_context():
        before = token()
        sync_bank(bank)
        db.session.commit()
        assert token() == before  # nothing changed: every worker keeps its snapshot

        shutil.copytree(QUESTIONS_DIR, tmp_path / "bank")
        path = tmp_path / "bank" / "stopping-safely.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace(
            "What should you do about your baclofen?", "What do you do about your baclofen?", 1), encoding="utf-8")
        assert sync_bank(load_bank(tmp_path / "bank")).questions_changed
        db.session.commit()
        assert token() != before


def test_a_change_rolled_back_leaves_the_token(app):
    with app.app_context():
        before = token()
        db.session.execute(db.select(Question)).scalars().first().position += 100
        db.session.flush()
        assert token() != before  # in the transaction...
        db.session.rollback()
        assert token() == before  # ...and gone with it


def test_the_snapshot_serves_what_the_database_serves_and_follows_a_change(app):
    with app.test_request_context():
        served = {q.id: q.current_version.prompt for q in served_questions()}
        first = snapshot.current()
        assert {q.id: q.current_version.prompt for qs in first.served.values() for q in qs} == served
        question = db.session.get(Question, next(iter(served)))
        question.retired_at = question.versions[0].created_at  # retired: no longer served
        db.session.commit()
        g.pop("bank_snapshot")  # a new request
        second = snapshot.current()
        assert second is not first
        assert question.id not in {q.id for qs in second.served.values() for q in qs}
        g.pop("bank_snapshot")
        assert snapshot.current() is second  # unchanged: the same object, nothing read but the token
