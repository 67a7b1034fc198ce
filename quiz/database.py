"""Per-connection database settings.

SQLite is the embedded default, and several gunicorn workers with threads write to it at once. Each new
SQLite connection gets (through the engine's `connect` event, so every pooled connection has them):

* `journal_mode=WAL`: readers never block the writer and the writer never blocks readers. In the old
  rollback-journal mode a commit waits for every reader to finish, and under load some requests gave
  up with "database is locked". `SQLITE_JOURNAL_MODE=DELETE` is only for file systems without shared
  memory (NFS), where WAL does not work.
* `busy_timeout`: a writer waits for the one before it (`SQLITE_BUSY_TIMEOUT_MS`, 10 s) instead of
  failing at once.
* `foreign_keys=ON`: the foreign keys in the schema are enforced, as PostgreSQL does. Migrations turn
  them off while SQLite rebuilds a table (see `migrations/env.py`).
* `synchronous` stays at SQLite's default FULL: a commit is on disk before the patient is told it is
  saved, even if the machine loses power. `SQLITE_SYNCHRONOUS=NORMAL` (WAL only) is the documented
  alternative for a host that prefers throughput: no fsync per commit (the WAL is synced at
  checkpoints), so a power cut may lose the last answers, never corrupt the file.

PostgreSQL needs nothing here.
"""
from __future__ import annotations

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db


def configure_engine(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        journal_mode = app.config["SQLITE_JOURNAL_MODE"]
        busy_timeout = app.config["SQLITE_BUSY_TIMEOUT_MS"]
        synchronous = app.config["SQLITE_SYNCHRONOUS"]
        file_backed = engine.url.database not in (None, "", ":memory:")

        @event.listens_for(engine, "connect")
        def sqlite_settings(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout)}")
                cursor.execute("PRAGMA foreign_keys = ON")
                cursor.execute(f"PRAGMA synchronous = {synchronous}")
                # Changing the mode needs the database to itself: only ask when it differs (once per
                # database file, in practice by `flask db upgrade` before the server starts).
                if file_backed and cursor.execute("PRAGMA journal_mode").fetchone()[0].upper() != journal_mode:
                    cursor.execute(f"PRAGMA journal_mode = {journal_mode}")
            finally:
                cursor.close()


def sqlite_settings_of(engine: Engine) -> dict[str, object]:
    """The settings a fresh connection of `engine` has (for tests and the health check of a deploy)."""
    with engine.connect() as connection:
        return {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
        }
