"""Tables as CSV downloads, safe to open in a spreadsheet.

A text cell that a spreadsheet would read as a formula (starting with =, +, -, @, or a tab or carriage
return that some spreadsheets skip before looking) gets a leading apostrophe, which spreadsheets show as
text and do not evaluate (OWASP's advice). Numbers are written as numbers: "-0.12" is a value, not a
formula, and must stay sortable.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from flask import Response

DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    return "'" + text if text.startswith(DANGEROUS_START) else text


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
