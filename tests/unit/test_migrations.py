"""The migrations build exactly the schema the models describe, on SQLite and (when reachable)
PostgreSQL, and upgrading twice is harmless."""
from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect, text

from quiz.extensions import db
from tests.conftest import make_app

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def postgres_available() -> bool:
    try:
        with create_engine(POSTGRES_URL, connect_args={"connect_timeout": 2}).connect():
            return True
    except Exception:
        return False


def drop_everything(url):
    if url.startswith("postgresql"):
        with create_engine(url).begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migrations_match_the_models(tmp_path, backend):
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    else:
        if not postgres_available():
            pytest.skip("PostgreSQL is not reachable")
        url = POSTGRES_URL
        drop_everything(url)
    app = make_app(SQLALCHEMY_DATABASE_URI=url)
    try:
        with app.app_context():
            upgrade()
            upgrade()  # a second upgrade is a no-op
            with db.engine.connect() as connection:
                diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
            assert diff == [], diff
            assert "alembic_version" in inspect(db.engine).get_table_names()
            db.session.close()
            db.engine.dispose()
    finally:
        drop_everything(url)


def migration_url(tmp_path, backend) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    if not postgres_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL}")
        pytest.skip("PostgreSQL is not reachable")
    drop_everything(POSTGRES_URL)
    return POSTGRES_URL


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrade_to_the_staff_workspace_keeps_assignments_answers_and_codes(tmp_path, backend):
    """A database in use at 0002 (an assignment with an 8-character code, answers) upgrades to 0003:
    the assignment gets a patient record in the 'Unassigned' unit, its code still opens it, and the
    audit log refuses rewrites."""
    from quiz.assignments import find_assignment, hash_code
    from quiz.models import Answer, Assignment

    url = migration_url(tmp_path, backend)
    app = make_app(SQLALCHEMY_DATABASE_URI=url)
    try:
        with app.app_context():
            upgrade(revision="0002_question_review")
            now = "2026-11-20 10:00:00+00:00"
            statements = [
                ("INSERT INTO module (id, title, summary, critical, position) VALUES ('m', 'M', 'S', true, 0)", {}),
                ("INSERT INTO question (id, module_id, position, current_fingerprint) VALUES ('q', 'm', 0, 'f')", {}),
                ("INSERT INTO question_version (question_id, fingerprint, key_point, prompt, type, explanation, choices,"
                 " citations, created_at, reviewed_on, reviewed_by_role) VALUES ('q', 'f', 'K', 'P', 'single', 'E',"
                 " '[]', '[]', :now, '2026-11-20', 'r')", {"now": now}),
                ("INSERT INTO assignment (patient_label, code_hash, created_at, expires_at, is_demo) VALUES"
                 " ('Bed 9', :hash, :now, '2099-01-01 00:00:00+00:00', false)", {"now": now, "hash": hash_code("SAFE5678")}),
                ("INSERT INTO assignment (patient_label, code_hash, created_at, expires_at, is_demo) VALUES"
                 " ('Bed 10', 'other', :now, '2099-01-01 00:00:00+00:00', false)", {"now": now}),
                ("INSERT INTO assignment_module (assignment_id, module_id, position) VALUES (1, 'm', 0)", {}),
                ("INSERT INTO answer (assignment_id, module_id, step, question_id, question_version_id, selected, correct,"
                 " created_at) VALUES (1, 'm', 0, 'q', 1, '[0]', false, :now)", {"now": now}),
            ]
            for sql, params in statements:
                db.session.execute(text(sql), params)
            db.session.commit()
            db.session.close()
            upgrade()
            with db.engine.connect() as connection:
                assert compare_metadata(MigrationContext.configure(connection), db.metadata) == []
            assignment = find_assignment("safe-5678")
            assert assignment is not None and assignment.patient_label == "Bed 9"
            assert assignment.patient.unit.name == "Unassigned" and assignment.updated_at == assignment.created_at
            labels = [a.patient_label for a in db.session.execute(db.select(Assignment).order_by(Assignment.id)).scalars()]
            assert labels == ["Bed 9", "Bed 10"]
            assert db.session.execute(db.select(Answer)).scalar_one().assignment_id == assignment.id
            db.session.execute(text("INSERT INTO audit_event (at, action, detail) VALUES (:now, 'unit.create', '{}')"),
                               {"now": now})
            db.session.commit()
            with pytest.raises(Exception, match="append-only"):
                db.session.execute(text("DELETE FROM audit_event"))
            db.session.rollback()
            db.session.close()
            db.engine.dispose()
    finally:
        if backend == "postgresql":
            drop_everything(url)
