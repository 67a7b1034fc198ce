"""The crafted requests that gave 500s (found by hand for issue 8 and by tests/web/test_fuzz.py), each
pinned down: a clear 4xx (or the page as if nothing odd was sent), never an error page."""
from __future__ import annotations

import io

import pytest

from tests.conftest import csrf_token, make_app
from tests.web.patient import Patient, answers_stored
from tests.web.staff import build_ward, sign_in

BEYOND = ["2147483648", "9223372036854775808", "1" + "0" * 30]


@pytest.fixture
def patient(app, client, assignment_code):
    app.config["WTF_CSRF_ENABLED"] = True
    Patient(client).start(assignment_code)
    return Patient(client)


@pytest.mark.parametrize("step", ["-1", *BEYOND])
def test_a_step_outside_the_column_is_not_saved(app, patient, step):
    page = patient.card().text
    reply = patient.post_answer(page, step=step, choice="0")
    assert reply.status_code == 303 and answers_stored(app) == 0


@pytest.mark.parametrize("value", ["-1", *BEYOND])
def test_ids_outside_the_column_in_forms_change_nothing(app, patient, value):
    page = patient.card().text
    assert patient.post_answer(page, version_id=value, choice="0").status_code == 303
    reply = patient.client.post(f"{patient.url}/next", data={"answer_id": value, "csrf_token": csrf_token(page)})
    assert reply.status_code == 303 and answers_stored(app) == 0


@pytest.mark.parametrize("value", BEYOND)
def test_ids_outside_the_column_in_urls_are_404(app, value):
    ward = build_ward(app)
    client = app.test_client()
    sign_in(client, ward.admin)
    for path in (f"/nurse/assignments/{value}", f"/nurse/units/{value}", f"/nurse/assignments/{value}/record"):
        assert client.get(path).status_code == 404, path


@pytest.mark.parametrize("passage", ["²-1", "1-²", "١-٢", "-1", "99999999999999999999-1"])
def test_a_crafted_passage_shows_the_source_without_a_highlight(client, passage):
    reply = client.get("/sources/003_cc7d42d20a1fa13c.txt", query_string={"passage": passage})
    assert reply.status_code == 200


def test_a_nul_in_a_static_path_is_refused(app, client):
    assert client.get("/static/%00").status_code == 400
    with app.app_context():  # and the static view itself would not have choked on it either
        assert app.extensions["quiz_static_files"].get("css/app.css\x00") is None


def test_a_file_where_text_is_expected_is_400(client):
    token = csrf_token(client.get("/").text)
    reply = client.post("/", data={"csrf_token": token, "code": (io.BytesIO(b"ACDEF-HJKMN"), "code.txt")},
                        content_type="multipart/form-data")
    assert reply.status_code == 400 and "We could not read that" in reply.text


@pytest.mark.parametrize("where", ["form", "query", "path"])
def test_a_nul_anywhere_is_400(bank, where):
    """PostgreSQL refuses a NUL in any string, stored or compared: refused before any view runs."""
    app = make_app(WTF_CSRF_ENABLED=False)
    client = app.test_client()
    if where == "form":
        reply = client.post("/", data={"code": "ACDEF\x00HJKMN"})
    elif where == "query":
        reply = client.get("/sources/003_cc7d42d20a1fa13c.txt?passage=1\x00")
    else:
        reply = client.get("/quiz/stopping%00safely")
    assert reply.status_code == 400
