"""Deployment fixtures: the app as a hospital runs it, started by real gunicorn in a subprocess
(the machinery is in tests/deploy/server.py, shared with bench/bench_load.py).

* `deploy` (session): a `Deployment`, the way in for every test here.
  - `deploy.database("sqlite" | "postgresql")` prepares a database exactly as `make serve` does (the
    real `flask --app wsgi db upgrade` and `questions load` commands, production configuration) and
    returns its DATABASE_URL. SQLite: a fresh file per call, copied from one prepared template.
    PostgreSQL: the database in TEST_POSTGRES_URL (the Makefile passes PG_TEST_URL; CI's is `test`),
    emptied first and at the end; skipped when unreachable, except in CI where that fails.
  - `deploy.server(kind, tls=None, workers=3, threads=4, env={...})` starts
    `gunicorn -c gunicorn.conf.py` (the project's settings: gthread workers, redacting access log)
    with QUIZ_ENV=production on a new database of that kind, on a loopback socket this process opened
    (so the port is known, free, and survives a restart of the server), waits for `/healthz`, and
    returns a `GunicornServer`. Use it as a context manager (stops the server) or let the session end.
    `env` adds settings, e.g. {"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/2"};
    `tls=tls_files` serves HTTPS with the session's self-signed certificate.
* `GunicornServer`: `.url`, `.kill()` (SIGKILL to master and workers at once, as a crash),
  `.restart()` (same socket, same database), `.stop()`, `.log()` (its output, access log included),
  `.new_assignments(n, module_ids)` -> [(assignment_id, code)], `.answers(assignment_ids)`,
  `.browser()` -> a `tests.deploy.http.Browser` with its own cookies, `.flask(*args)` runs a flask
  command against its database in production configuration.
* `tls_files` (session): a self-signed certificate for 127.0.0.1/localhost made with `cryptography`,
  with its SPKI pin (for Chromium) and an `ssl.SSLContext` that trusts it (for Python clients).
"""
from __future__ import annotations

import os

import pytest

from tests.deploy.server import Deployment, PostgresUnavailable, ServerError, make_tls_files


def missing(message: str):
    """Skip on a developer's machine; fail in CI, where a skip would hide a missing service."""
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


class PytestDeployment(Deployment):
    """A Deployment whose failures are test failures, and whose missing PostgreSQL is a skip."""

    def database(self, kind: str) -> str:
        try:
            return super().database(kind)
        except PostgresUnavailable as error:
            missing(str(error))
        except ServerError as error:
            pytest.fail(str(error), pytrace=False)

    def server(self, *args, **kwargs):
        try:
            return super().server(*args, **kwargs)
        except ServerError as error:
            pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def deploy(tmp_path_factory):
    deployment = PytestDeployment(tmp_path_factory.mktemp("deploy"))
    yield deployment
    deployment.close()
