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
