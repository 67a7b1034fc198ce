"""The admin pages through the test client: who may open them, the staff and unit forms (303 after a
valid POST, 422 with the error next to its field), passwords shown once, sessions ended, the audit
log's filters, pages and CSV (parsed with the csv module, formulas neutralised), the bank status."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest
from flask import Blueprint

from quiz import audit
from quiz.admin.routes import AUDIT_PAGE_SIZE
from quiz.assignments import create_assignment
from quiz.extensions import db
from quiz.models import AuditEvent, StaffUser, Unit, WebSession, utcnow
from tests.bankfiles import module_file, question, write
from tests.conftest import csrf_token, make_app
from tests.web.staff import PASSWORD, add_staff, form_token, sign_in

ADMIN_PAGES = ["/admin/", "/admin/staff", "/admin/staff/new", "/admin/units", "/admin/audit", "/admin/audit.csv",
               "/admin/bank"]


@pytest.fixture
def admin(app, ward):
    client = app.test_client()
    assert sign_in(client, ward.admin).status_code == 303
    return client


def user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.execute(db.select(StaffUser.id).filter_by(username=username)).scalar_one()


def post(client, path: str, data: dict | None = None, **kwargs):
    token = csrf_token(client.get(path).text)
    return client.post(path, data={"csrf_token": token, **(data or {})}, **kwargs)


def error_next_to(html: str, field_id: str) -> str:
    """The error message shown for a field (the page's markup puts it right before the input)."""
    match = re.search(rf'<p id="{field_id}-error" class="error-message"><span class="visually-hidden">Error:</span>\s*([^<]+)</p>', html)
    assert match, f"no error shown for {field_id}"
    assert f'aria-describedby="{field_id}' in html or f'{field_id}-error' in html
    return match.group(1).strip()


# --- access -------------------------------------------------------------------------------------------

def test_a_nurse_reaches_no_admin_page_or_export(app, ward):
    nurse = app.test_client()
    sign_in(nurse, ward.nurse)
    for path in ADMIN_PAGES + [f"/admin/staff/{ward.other_nurse_id}", f"/admin/units/{ward.unit_id}/rename"]:
        response = nurse.get(path)
        assert response.status_code == 403, path
        assert "text/csv" not in response.content_type and "Bed 3" not in response.text
    assert "for administrators" in nurse.get("/admin/audit.csv").text
    assert 'href="/admin/"' not in nurse.get("/nurse/", follow_redirects=True).text
    token = form_token(nurse, "/nurse/")
    assert nurse.post("/admin/units", data={"csrf_token": token, "name": "Sneaky"}).status_code == 403
    with app.app_context():
        assert db.session.execute(db.select(Unit).filter_by(name="Sneaky")).first() is None


def test_signed_out_visitors_are_sent_to_sign_in_and_back(app, ward):
    client = app.test_client()
    response = client.get("/admin/audit?action=staff.sign_in")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/staff/sign-in?next=/admin/audit")
    token = form_token(client, "/staff/sign-in")
    response = client.post(response.headers["Location"], data={"username": ward.admin, "password": PASSWORD,
                                                                "csrf_token": token})
    assert response.headers["Location"] == "/admin/audit?action=staff.sign_in"


def test_admin_pages_are_never_cached_and_the_header_says_admin(admin):
    for path in ADMIN_PAGES:
        response = admin.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path
    home = admin.get("/nurse/", follow_redirects=True).text
    assert '<a href="/admin/">Admin</a>' in home


def test_the_home_page_links_every_area(admin):
    page = admin.get("/admin/").text
    for path in ("/admin/reports/", "/admin/staff", "/admin/units", "/admin/audit", "/admin/bank"):
        assert f'href="{path}"' in page
    assert "Not available in this version" not in page


# --- staff --------------------------------------------------------------------------------------------

def test_creating_an_account_shows_its_password_once(app, admin, ward):
    response = post(admin, "/admin/staff/new", {"username": "Zoe", "display_name": "Zoe K., RN", "role": "nurse",
                                                "units": [str(ward.unit_id)]})
    assert response.status_code == 303
    zoe = user_id(app, "zoe")
    assert response.headers["Location"] == f"/admin/staff/{zoe}/password"
    shown = admin.get(response.headers["Location"]).text
    password = re.search(r'class="access-code password-once"[^>]*>([^<]+)<', shown).group(1)
    again = admin.get(response.headers["Location"]).text
    assert password not in again and "no longer shown" in again
    with app.app_context():
        row = db.session.execute(db.select(WebSession.data).where(WebSession.user_id == user_id(app, ward.admin))).scalar_one()
        assert password not in row  # taken out of the session as it was shown
        user = db.session.get(StaffUser, zoe)
        assert user.display_name == "Zoe K., RN" and [u.name for u in user.units] == ["Ward A"]
        event = db.session.execute(db.select(AuditEvent).filter_by(action="staff.create")).scalar_one()
        assert event.actor_name == ward.admin and event.detail["units"] == ["Ward A"]
    assert sign_in(app.test_client(), "zoe", password).status_code == 303


@pytest.mark.parametrize("data, field, message", [
    ({"username": "nina", "role": "nurse"}, "username", "already exists"),
    ({"username": "bad name", "role": "nurse"}, "username", "letters, digits"),
    ({"username": "", "role": "nurse"}, "username", "Enter a username"),
    ({"username": "zed"}, "staff-role", "Choose a role"),
])
def test_create_errors_are_shown_next_to_their_field(app, admin, data, field, message):
    response = post(admin, "/admin/staff/new", data)
    assert response.status_code == 422
    assert message in error_next_to(response.text, field)
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(StaffUser.id))).scalar_one() == 3


def test_role_units_and_name_change(app, admin, ward):
    nina = user_id(app, ward.nurse)
    response = post(admin, f"/admin/staff/{nina}", {"display_name": "Nina B.", "role": "nurse",
                                                    "units": [str(ward.unit_id), str(ward.other_unit_id)]})
    assert response.status_code == 303 and response.headers["Location"] == f"/admin/staff/{nina}"
    assert "Saved the changes to nina" in admin.get(response.headers["Location"]).text
    with app.app_context():
        user = db.session.get(StaffUser, nina)
        assert [u.name for u in user.units] == ["Ward A", "Ward B"] and user.display_name == "Nina B."
    nurse = app.test_client()
    sign_in(nurse, ward.nurse)
    assert "Bed 4" in nurse.get(f"/nurse/units/{ward.other_unit_id}").text


def test_the_last_admin_cannot_demote_or_disable_themselves(app, admin, ward):
    ada = user_id(app, ward.admin)
    response = post(admin, f"/admin/staff/{ada}", {"display_name": "Ada", "role": "nurse"})
    assert response.status_code == 422
    assert "last active administrator" in error_next_to(response.text, "staff-role")
    response = post(admin, f"/admin/staff/{ada}/disable")
    assert response.status_code == 422 and "your own account" in response.text
    with app.app_context():
        assert db.session.get(StaffUser, ada).is_admin


def test_an_admin_who_steps_down_is_signed_out(app, admin, ward):
    with app.app_context():
        add_staff("bea", "admin", [])
        db.session.commit()
    ada = user_id(app, ward.admin)
    response = post(admin, f"/admin/staff/{ada}", {"display_name": "Ada", "role": "nurse"})
    assert response.status_code == 303 and response.headers["Location"] == "/staff/sign-in"
    assert "You are no longer an administrator" in admin.get("/staff/sign-in").text
    assert admin.get("/admin/").status_code == 303  # the session ended with the role change


def test_disable_and_reset_end_the_accounts_sessions(app, admin, ward):
    nina = user_id(app, ward.nurse)
    nurse = app.test_client()
    sign_in(nurse, ward.nurse)
    assert nurse.get("/nurse/").status_code in (200, 302)
    assert "Disable nina?" in admin.get(f"/admin/staff/{nina}/disable").text
    response = post(admin, f"/admin/staff/{nina}/disable")
    assert response.status_code == 303
    assert nurse.get("/nurse/").headers["Location"].startswith("/staff/sign-in")
    assert sign_in(app.test_client(), ward.nurse).status_code == 422  # disabled
    page = admin.get(f"/admin/staff/{nina}").text
    assert "Disabled nina; 1 open session(s) ended" in page
    response = admin.post(f"/admin/staff/{nina}/enable", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 303
    assert sign_in(nurse, ward.nurse).status_code == 303

    response = post(admin, f"/admin/staff/{nina}/reset-password")
    assert response.status_code == 303 and response.headers["Location"] == f"/admin/staff/{nina}/password"
    password = re.search(r'password-once[^>]*>([^<]+)<', admin.get(response.headers["Location"]).text).group(1)
    assert nurse.get("/nurse/").headers["Location"].startswith("/staff/sign-in")
    assert sign_in(app.test_client(), ward.nurse).status_code == 422  # the old password
    assert sign_in(app.test_client(), ward.nurse, password).status_code == 303
    with app.app_context():
        done = list(db.session.execute(db.select(AuditEvent.action).where(AuditEvent.action.like("staff.%able")
                                                                          | (AuditEvent.action == "staff.password_reset"))
                                       .order_by(AuditEvent.id)).scalars())
        assert done == ["staff.disable", "staff.enable", "staff.password_reset"]


def test_a_bad_confirmation_is_refused_without_a_change(app, admin, ward):
    nina = user_id(app, ward.nurse)
    response = admin.post(f"/admin/staff/{nina}/disable", data={"csrf_token": "forged"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(StaffUser, nina).active


def test_unknown_ids_are_404(admin):
    for path in ("/admin/staff/999999", "/admin/staff/999999/disable", "/admin/units/999999/rename"):
        assert admin.get(path).status_code == 404, path


# --- units --------------------------------------------------------------------------------------------

def test_units_create_and_rename_with_clear_errors(app, admin, ward):
    response = post(admin, "/admin/units", {"name": "  Neuro   rehab "})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/units"
    assert "Created the unit Neuro rehab." in admin.get("/admin/units").text
    response = post(admin, "/admin/units", {"name": "ward a"})
    assert response.status_code == 422
    assert "already exists" in error_next_to(response.text, "name")
    response = post(admin, "/admin/units", {"name": ""})
    assert response.status_code == 422 and "Enter the unit" in error_next_to(response.text, "name")

    path = f"/admin/units/{ward.unit_id}/rename"
    assert 'value="Ward A"' in admin.get(path).text
    response = post(admin, path, {"name": "Ward B"})
    assert response.status_code == 422 and "already exists" in error_next_to(response.text, "name")
    response = post(admin, path, {"name": "Ward A (north)"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Unit, ward.unit_id).name == "Ward A (north)"
        event = db.session.execute(db.select(AuditEvent).filter_by(action="unit.rename")).scalar_one()
        assert event.detail == {"from": "Ward A", "to": "Ward A (north)"} and event.unit_id == ward.unit_id


# --- the audit log ------------------------------------------------------------------------------------

def add_events(app, count: int, **values) -> None:
    with app.app_context():
        for i in range(count):
            audit.record("staff.sign_in_failed", actor=None, actor_name="mallory", detail={"n": i}, **values)
        db.session.commit()


def rows_of(html: str) -> int:
    body = html.split('<tbody>', 1)[1].split('</tbody>', 1)[0] if "<tbody>" in html else ""
    return body.count("<tr>")


def test_the_audit_log_pages_newest_first(app, admin):
    add_events(app, AUDIT_PAGE_SIZE + 5)
    first = admin.get("/admin/audit?user=mallory").text
    assert rows_of(first) == AUDIT_PAGE_SIZE
    assert "n: 54" in first and "n: 4<" not in first
    older = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert "user=mallory" in older and "page=2" in older
    second = admin.get(older).text
    assert rows_of(second) == 5 and "n: 4<" in second and 'rel="next"' not in second and 'rel="prev"' in second
    assert "No entries match" in admin.get("/admin/audit?user=mallory&page=9").text


def test_audit_filters(app, admin, ward):
    add_events(app, 3)
    nurse = app.test_client()
    sign_in(nurse, ward.nurse)
    nurse.get(f"/nurse/assignments/{ward.assignment_id}")  # a view of Bed 3's results
    assert rows_of(admin.get("/admin/audit?user=MALLORY").text) == 3
    page = admin.get("/admin/audit?patient=bed+3").text
    assert rows_of(page) == 1 and "Viewed a patient&#39;s results" in page and "nina" in page
    assert rows_of(admin.get("/admin/audit?action=patient.results_view").text) == 1
    with app.app_context():
        yesterday = (utcnow() - timedelta(days=1)).date().isoformat()
    assert rows_of(admin.get(f"/admin/audit?user=mallory&date_to={yesterday}").text) == 0
    assert rows_of(admin.get(f"/admin/audit?user=mallory&date_from={yesterday}").text) == 3


@pytest.mark.parametrize("query, field, message", [
    ("date_from=2026-13-01", "date_from", "Not a valid date"),
    ("date_from=2026-12-05&date_to=2026-12-01", "date_to", "before the start date"),
    ("action=staff.nonsense", "action", "Not a valid choice"),
])
def test_bad_filters_are_422_with_the_message_next_to_the_field(admin, query, field, message):
    response = admin.get(f"/admin/audit?{query}")
    assert response.status_code == 422
    assert message in error_next_to(response.text, field)
    assert admin.get(f"/admin/audit.csv?{query}").status_code == 422


def test_htmx_gets_only_the_filters_and_results(admin, app):
    add_events(app, 2)
    response = admin.get("/admin/audit?user=mallory", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert response.text.lstrip().startswith('<div id="audit-area">') and "<html" not in response.text
    assert 'id="audit-results"' in response.text and '<nav class="admin-nav"' not in response.text


def test_the_csv_export_has_the_filtered_rows_with_formulas_neutralised(app, admin):
    with app.app_context():
        unit = db.session.execute(db.select(Unit).filter_by(name="Ward A")).scalar_one()
        assignment, _ = create_assignment('=HYPERLINK("http://evil.example","Bed 9")', ["stopping-safely"], 3, unit=unit)
        audit.record("assignment.create", actor=None, actor_name="@mallory", assignment=assignment,
                     detail={"note": "+1"})
        db.session.commit()
    add_events(app, 2)
    response = admin.get("/admin/audit.csv?action=assignment.create")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="audit-log-')
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True), newline="")))
    assert rows[0] == ["id", "time (UTC)", "action", "what", "staff", "unit", "patient id", "patient",
                       "assignment id", "address", "detail"]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1]))
    assert row["patient"] == '\'=HYPERLINK("http://evil.example","Bed 9")'
    assert row["staff"] == "'@mallory" and row["unit"] == "Ward A" and row["action"] == "assignment.create"
    assert row["detail"] == '{"note": "+1"}'
    for cell in (c for r in rows for c in r):
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    with app.app_context():
        export = db.session.execute(db.select(AuditEvent).filter_by(action="audit.export")).scalar_one()
        assert export.detail == {"filters": {"action": "assignment.create"}, "rows": 1}


# --- the question bank --------------------------------------------------------------------------------

def test_bank_status_after_load_and_check(app, admin, runner, bank_dir):
    page = admin.get("/admin/bank").text
    assert "Never recorded" in page
    assert runner.invoke(args=["questions", "load"]).exit_code == 0
    page = admin.get("/admin/bank").text
    assert "questions load" in page and "passed" in page and "the checked files are the loaded bank" in page
    assert "Readability" in page and "Whole module" in page and "stop-feel-better" in page
    with app.app_context():
        from quiz.bank_status import loaded_fingerprint

        assert loaded_fingerprint()[:12] in page

    write(bank_dir, "drafts.yaml", module_file("only-drafts", critical=False,
                                              questions=[question("draft-one"), question("draft-two")]))
    assert runner.invoke(args=["questions", "load", "--dir", str(bank_dir)]).exit_code == 0
    page = admin.get("/admin/bank").text
    assert "All 2 of its questions are drafts" in page
    assert "Retired: its file is no longer in the bank." in page  # the real modules, gone from this folder

    write(bank_dir, "broken.yaml", "module: [")
    result = runner.invoke(args=["questions", "check", "--dir", str(bank_dir)])
    assert result.exit_code == 1
    page = admin.get("/admin/bank").text
    assert "<strong>failed</strong>" in page and "broken.yaml: is not valid YAML" in page


def test_a_large_export_streams_in_batches_with_every_row_once(app, admin, monkeypatch):
    monkeypatch.setattr("quiz.admin.routes.AUDIT_EXPORT_BATCH", 4)
    add_events(app, 10)
    response = admin.get("/admin/audit.csv")
    assert response.is_streamed
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True), newline="")))
    events = [row for row in rows if row["staff"] == "mallory"]
    assert [json.loads(row["detail"])["n"] for row in events] == list(range(9, -1, -1))
    assert len({row["id"] for row in rows}) == len(rows) == 11  # and the admin's sign-in; not the export itself
    with app.app_context():
        export = db.session.execute(db.select(AuditEvent).filter_by(action="audit.export")).scalar_one()
        assert export.detail["rows"] == 11
