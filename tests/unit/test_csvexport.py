"""The shared CSV helper: a header row, one line per row, and cells a spreadsheet would run as a
formula neutralised (parsed back with the csv module)."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone

import pytest

from quiz.csvexport import csv_response, csv_text, safe_cell


@pytest.mark.parametrize("value, written", [
    ("=1+1", "'=1+1"), ("+SUM(A1)", "'+SUM(A1)"), ("-2+3", "'-2+3"), ("@cmd", "'@cmd"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
    ("Bed 3", "Bed 3"), ("a=b", "a=b"), ("", ""), (None, ""), (-3, -3), (2.5, 2.5), (True, "yes"),
    (date(2026, 12, 4), "2026-12-04"),
])
def test_safe_cell(value, written):
    assert safe_cell(value) == written


def test_csv_text_round_trips_through_the_csv_module():
    rows = [("Bed, 3", 'said "hi"', "line\nbreak", "=cmd|' /C calc'!A0"), (1, None, -4, "@x")]
    parsed = list(csv.reader(io.StringIO(csv_text(["a", "b", "c", "d"], rows), newline="")))
    assert parsed == [["a", "b", "c", "d"], ["Bed, 3", 'said "hi"', "line\nbreak", "'=cmd|' /C calc'!A0"],
                      ["1", "", "-4", "'@x"]]


def test_csv_response_is_a_text_csv_download(app):
    with app.test_request_context():
        response = csv_response("audit log 2026/12.csv", ["when"], [(datetime(2026, 12, 4, tzinfo=timezone.utc),)])
    assert response.mimetype == "text/csv" and response.charset == "utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="audit-log-2026-12.csv"'
    assert response.get_data(as_text=True) == "when\r\n2026-12-04T00:00:00+00:00\r\n"
