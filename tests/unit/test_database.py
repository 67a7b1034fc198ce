"""Per-connection SQLite settings, migrations under enforced foreign keys, and no statement values in
error messages (so none in logs)."""
from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy.exc import IntegrityError

from quiz.database import sqlite_settings_of
from quiz.extensions import db
from quiz.models import Answer
from tests.conftest import make_app


@pytest.fixture
def file_app(tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'quiz.sqlite3'}")
    with app.app_context():
        upgrade()
        yield app
        db.session.remove()
        db.engine.dispose()


def test_every_sqlite_connection_is_in_wal_mode_with_foreign_keys_and_a_busy_timeout(file_app):
    settings = sqlite_settings_of(db.engine)
    assert settings == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 10_000, "synchronous": 2}


def test_migrations_leave_foreign_keys_on_and_intact(file_app):
    assert db.session.execute(db.text("PRAGMA foreign_key_check")).all() == []
    assert sqlite_settings_of(db.engine)["foreign_keys"] == 1


def test_foreign_keys_are_enforced(file_app):
    db.session.add(Answer(assignment_id=999, module_id="nope", step=0, question_id="nope",
                          question_version_id=999, selected=[0], correct=True))
    with pytest.raises(IntegrityError, match="FOREIGN KEY"):
        db.session.commit()
    db.session.rollback()


def test_failed_statements_do_not_show_their_values(file_app):
    db.session.add(Answer(assignment_id=424242, module_id="secret-module", step=0, question_id="q",
                          question_version_id=1, selected=[3], correct=False))
    with pytest.raises(IntegrityError) as caught:
        db.session.commit()
    db.session.rollback()
    message = str(caught.value)
    assert "424242" not in message and "secret-module" not in message
    assert "parameters hidden" in message


def test_journal_mode_can_be_delete_for_file_systems_without_shared_memory(tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'nfs.sqlite3'}", SQLITE_JOURNAL_MODE="DELETE")
    with app.app_context():
        assert sqlite_settings_of(db.engine)["journal_mode"] == "delete"
        db.engine.dispose()


def test_a_table_rebuild_keeps_the_rows_that_point_at_it(tmp_path):
    """Going back from 0002 rebuilds question_version (SQLite batch mode: copy, drop, rename) while
    answers point at it. With foreign keys enforced during a migration, dropping the old table would
    delete or refuse those rows; migrations run with them off and check them after."""
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'old.sqlite3'}")
    with app.app_context():
        upgrade(revision="0002_question_review")  # the rows below are written in that schema
        now = "2026-01-01 00:00:00"
        for statement in (
            "INSERT INTO module (id, title, summary, critical, position) VALUES ('m', 'M', 's', 0, 0)",
            "INSERT INTO question (id, module_id, position, current_fingerprint) VALUES ('q', 'm', 0, 'f')",
            "INSERT INTO question_version (id, question_id, fingerprint, key_point, prompt, type, explanation,"
            f" choices, citations, created_at) VALUES (1, 'q', 'f', 'k', 'p', 'single', 'e', '[]', '[]', '{now}')",
            "INSERT INTO assignment (id, patient_label, code_hash, created_at, expires_at, is_demo)"
            f" VALUES (1, 'Bed 1', 'h', '{now}', '{now}', 0)",
            "INSERT INTO assignment_module (assignment_id, module_id, position) VALUES (1, 'm', 0)",
            "INSERT INTO answer (id, assignment_id, module_id, step, question_id, question_version_id, selected,"
            f" correct, created_at) VALUES (1, 1, 'm', 0, 'q', 1, '[0]', 1, '{now}')",
        ):
            db.session.execute(db.text(statement))
        db.session.commit()
        downgrade(revision="0001_initial")
        upgrade()  # to the newest revision, through every rebuild since
        assert db.session.execute(db.text("SELECT question_version_id FROM answer")).scalar() == 1
        assert db.session.execute(db.text("PRAGMA foreign_key_check")).all() == []
        assert sqlite_settings_of(db.engine)["foreign_keys"] == 1
        db.session.remove()
        db.engine.dispose()



def test_synchronous_normal_is_a_setting_and_needs_wal(tmp_path):
    from quiz.config import ConfigError

    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'fast.sqlite3'}", SQLITE_SYNCHRONOUS="NORMAL")
    with app.app_context():
        assert sqlite_settings_of(db.engine)["synchronous"] == 1
        db.engine.dispose()
    with pytest.raises(ConfigError, match="needs SQLITE_JOURNAL_MODE=WAL"):
        make_app(SQLITE_SYNCHRONOUS="NORMAL", SQLITE_JOURNAL_MODE="DELETE")
    with pytest.raises(ConfigError, match="FULL or NORMAL"):
        make_app(SQLITE_SYNCHRONOUS="OFF")
