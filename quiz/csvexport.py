"""CSV downloads for the staff pages: one helper, `csv_response(filename, header, rows)`, used by every
export (the audit log, the reports).

Spreadsheet formula injection: a cell whose text starts with `=`, `+`, `-` or `@` (or a tab or
carriage return, which some spreadsheets skip before reading a formula) is run as a formula when the
file is opened, so a patient label or a typed username like `=HYPERLINK(...)` could act on the
admin's computer. Such text cells get a leading apostrophe, which spreadsheets show as text (OWASP's
advice). Numbers stay numbers: `-3` written from an int is a value, not a formula. The file is UTF-8
without a byte-order mark, so the `csv` module and command-line tools read it as it is.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime

from flask import Response, current_app

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def safe_cell(value) -> str | int | float:
    """A cell as written: None is empty, dates are ISO 8601, text that a spreadsheet would run as a
    formula is neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    text = str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence], rows_per_chunk: int = 500) -> Iterator[str]:
    """The file as text, a few hundred lines at a time (`rows` is read lazily)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(name) for name in header])
    for count, row in enumerate(rows, start=1):
        writer.writerow([safe_cell(value) for value in row])
        if count % rows_per_chunk == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def csv_text(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    return "".join(csv_chunks(header, rows))


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> Response:
    """A download: `text/csv`, a header row, then one line per row. `rows` may be a generator that
    reads the database as it goes: the body is written while it is read, so a large export never
    sits in memory whole."""
    name = _SAFE_FILENAME.sub("-", filename).strip("-.") or "export"
    if not name.endswith(".csv"):
        name += ".csv"
    app = current_app._get_current_object()

    def body() -> Iterator[bytes]:
        # The request's context has ended by the time the server sends the body, so lazy rows get an
        # application context (and database session) of their own, pushed only while they are read.
        with app.app_context():
            for chunk in csv_chunks(header, rows):
                yield chunk.encode("utf-8")

    response = Response(body(), mimetype="text/csv")
    response.charset = "utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response
