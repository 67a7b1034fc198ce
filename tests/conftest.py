"""Shared fixtures: an app on a fresh database with the real question bank loaded.

The database is in-memory SQLite by default; set TEST_DATABASE_URL (for example
postgresql+psycopg://postgres@127.0.0.1:5432/test) to run the same tests on PostgreSQL.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from quiz import create_app
from quiz.assignments import create_assignment
from quiz.bank import load_bank, sync_bank
from quiz.extensions import db

PROJECT_ROOT = Path(__file__).resolve().parent.parent
QUESTIONS_DIR = PROJECT_ROOT / "questions"


@pytest.fixture(scope="session")
def bank():
    return load_bank(QUESTIONS_DIR)


def make_app(**overrides):
    config = {"QUIZ_ENV": "testing"}
    config.update(overrides)
    return create_app(config)


@pytest.fixture
def app(bank):
    """The app with its tables and the real bank. No app context stays pushed: each test-client
    request gets its own, as in production (a shared context would share `g` between requests)."""
    app = make_app()
    with app.app_context():
        db.create_all()
        sync_bank(bank)
        db.session.commit()
    yield app
    with app.app_context():
        db.session.close()
        db.drop_all()
        # Each test's app has its own engine: close its pooled connections now rather than at garbage
        # collection, or a PostgreSQL run holds dozens open and meets "too many clients".
        db.engine.dispose()


@pytest.fixture
def ctx(app):
    """An app context for tests that use the database directly, without requests."""
    with app.app_context():
        yield
        db.session.rollback()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def assignment_code(app):
    """An assignment of two modules; returns its access code."""
    with app.app_context():
        _, code = create_assignment("Bed 7", ["stopping-safely", "kidney-health"], 14)
        db.session.commit()
    return code


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token in page"
    return match.group(1)


@pytest.fixture
def bank_dir(tmp_path):
    """A bank folder with the real sources and no modules yet (see tests/bankfiles.py)."""
    shutil.copytree(QUESTIONS_DIR / "sources", tmp_path / "sources")
    return tmp_path


# --- Staff workspace ---------------------------------------------------------------------------------

@pytest.fixture
def ward(app):
    """Two units, a nurse on each, an admin, and one patient per unit (see tests/web/staff.py)."""
    from tests.web.staff import build_ward

    return build_ward(app)
