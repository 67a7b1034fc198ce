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
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from flask import Response

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


def csv_text(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(name) for name in header])
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return out.getvalue()


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> Response:
    """A download: `text/csv`, a header row, then one line per row."""
    name = _SAFE_FILENAME.sub("-", filename).strip("-.") or "export"
    if not name.endswith(".csv"):
        name += ".csv"
    response = Response(csv_text(header, rows).encode("utf-8"), mimetype="text/csv")
    response.charset = "utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response
