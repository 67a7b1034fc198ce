"""Starting the app from a shell, a `flask` command or a server.

Whoever starts the app gets one clear line and a non-zero exit for a problem they can fix, never a
traceback: a configuration error (no SECRET_KEY in production, an unknown QUIZ_ENV, a number that is not
a number, a DATABASE_URL that cannot work), or a database that a command cannot reach or that has no
tables yet. Bugs still get their traceback.
"""
from __future__ import annotations

import sys

from flask import Flask
from sqlalchemy.exc import InterfaceError, OperationalError, ProgrammingError

from .config import ConfigError

DATABASE_ERRORS = (OperationalError, InterfaceError, ProgrammingError)
SCHEMA_MISSING = ("no such table", "does not exist")


def create_app_or_exit() -> Flask:
    from . import create_app

    try:
        app = create_app()
    except ConfigError as error:
        sys.exit(f"Configuration error: {error}")
    _exit_in_one_line_on_database_errors()
    return app


def database_problem(error: BaseException) -> str | None:
    """The one line to print for a database error that ends a command, or None if it is not one."""
    if not isinstance(error, DATABASE_ERRORS):
        return None
    detail = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
    if any(marker in detail for marker in SCHEMA_MISSING):
        return f"The database has no tables yet ({detail}): run `flask --app wsgi db upgrade` first."
    if isinstance(error, ProgrammingError):
        return None
    return f"Cannot use the database: {detail}"


def _exit_in_one_line_on_database_errors() -> None:
    previous = sys.excepthook
    if getattr(previous, "quiz_one_line", False):
        return

    def hook(kind, error, traceback):
        line = database_problem(error)
        if line is None:
            previous(kind, error, traceback)
        else:
            print(line, file=sys.stderr)

    hook.quiz_one_line = True
    sys.excepthook = hook
