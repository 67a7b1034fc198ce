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

**Writers take turns through a lock that wakes the next one at once** (file-backed SQLite in WAL mode).
SQLite lets one transaction write at a time; a writer that finds the database locked sleeps in its busy
handler, in steps that grow to 100 ms, however soon the lock frees. Under load (many gunicorn threads
answering at once) most of a request's time went into those sleeps while each commit holds the lock
for one fsync (~4 ms here). So every connection of this app takes an exclusive lock of its own before
its transaction's first write (INSERT, UPDATE, DELETE, REPLACE) and gives it back right after the
commit or rollback: a `threading.RLock` between the threads of a process (re-entrant, so a thread that
writes on two connections waits on SQLite's own busy timeout as before rather than on itself), then
`flock` on `<database>.writelock` between processes; the kernel wakes the next waiter as soon as it is
released, and a process that dies holding it releases it. Reads never take it (WAL readers do not wait
for writers). Other programs writing to the file do not take it; SQLite's busy timeout still covers
them.

PostgreSQL needs nothing here.
"""
from __future__ import annotations

import fcntl
import os
import re
import sqlite3
import threading

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

from .extensions import db

_WRITES = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


class ProcessWriteLock:
    """One writer at a time among the threads of this process (RLock) and among processes (flock)."""

    def __init__(self, path: str):
        self.path = path
        self._threads = threading.RLock()
        self._depth = 0  # changed only while holding _threads
        self._fd: int | None = None
        self._pid = 0

    def acquire(self) -> None:
        self._threads.acquire()
        try:
            if self._depth == 0:
                if self._pid != os.getpid():  # a forked child needs its own open file for flock
                    self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                    self._pid = os.getpid()
                fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise
        self._depth += 1

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._threads.release()


def _connection_class(lock: ProcessWriteLock) -> type[sqlite3.Connection]:
    """A sqlite3 connection that holds `lock` from its transaction's first write to its end."""

    class WriteLockingCursor(sqlite3.Cursor):
        def execute(self, sql, parameters=(), /):
            self.connection.before_statement(sql)
            return super().execute(sql, parameters)

        def executemany(self, sql, seq_of_parameters, /):
            self.connection.before_statement(sql)
            return super().executemany(sql, seq_of_parameters)

    class WriteLockingConnection(sqlite3.Connection):
        # SQLAlchemy runs every statement through `cursor()`; `Connection.execute` bypasses it.
        write_lock = lock
        holds_write_lock = False

        def cursor(self, factory=WriteLockingCursor):
            return super().cursor(factory)

        def before_statement(self, sql: str) -> None:
            if not self.holds_write_lock and _WRITES.match(sql):
                lock.acquire()
                self.holds_write_lock = True

        def _release(self) -> None:
            if self.holds_write_lock:
                self.holds_write_lock = False
                lock.release()

        def commit(self):
            try:
                return super().commit()
            finally:
                self._release()

        def rollback(self):
            try:
                return super().rollback()
            finally:
                self._release()

        def close(self):
            try:
                return super().close()
            finally:
                self._release()

    return WriteLockingConnection


def engine_options(app: Flask) -> None:
    """Before the engine is made: file-backed SQLite in WAL mode gets the write lock (above)."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:") \
            or url.database.startswith("file:") or app.config["SQLITE_JOURNAL_MODE"] != "WAL":
        return
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    connect_args = dict(options.get("connect_args") or {})
    # A relative path is in the instance folder, as Flask-SQLAlchemy resolves it.
    path = os.path.join(app.instance_path, url.database)
    connect_args["factory"] = _connection_class(ProcessWriteLock(path + ".writelock"))
    options["connect_args"] = connect_args
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


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
