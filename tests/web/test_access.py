"""Access rules proven over every route in the app, so a new route cannot forget them."""
from __future__ import annotations

import re

import pytest

from quiz import CONTENT_SECURITY_POLICY
from tests.conftest import make_app
from tests.web.patient import Patient
from tests.web.staff import form_token, sign_in

# Endpoints anyone may open. Patient endpoints (`patient.*`) need a patient session, staff endpoints
# (`nurse.*`) a staff session, admin endpoints (`admin.*`, every URL under `/admin`) an admin's session:
# a nurse gets 403 there.
PUBLIC = {"static", "patient.start", "patient.start_link", "sources.source_show", "auth.sign_in", "auth.sign_out"}
STAFF_PREFIXES = ("nurse.",)
# Administrator-only endpoints: a nurse gets 403 (the admin area, and its reports at /admin/reports/).
ADMIN_PREFIXES = ("admin.", "reports.")
PATIENT_PREFIXES = ("patient.",)
ROLES = ["anonymous", "patient", "nurse of another unit", "nurse", "admin"]
PUBLIC |= {"health.healthz"}  # load balancers probe it; it says only "ok" (issue 8)
PUBLIC |= {"site.favicon", "site.manifest", "site.text_size"}  # the icon, the manifest, the text-size form (issue 9)


def routes():
    app = make_app()
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, rule.rule


ALL_ROUTES = sorted(set(routes()))


def test_every_route_is_classified():
    endpoints = {endpoint for endpoint, _, _ in ALL_ROUTES}
    assert endpoints >= PUBLIC
    unclassified = [e for e in endpoints
                    if e not in PUBLIC and not e.startswith(STAFF_PREFIXES + PATIENT_PREFIXES + ADMIN_PREFIXES)]
    assert not unclassified, f"classify these endpoints in test_access.py: {unclassified}"
    for endpoint, _, rule in ALL_ROUTES:
        assert not rule.startswith("/admin") or endpoint.startswith(ADMIN_PREFIXES), "/admin is for the admin pages"
        assert not endpoint.startswith(ADMIN_PREFIXES) or rule.startswith("/admin/"), endpoint
    assert any(e.startswith(ADMIN_PREFIXES) for e in endpoints), "the walk must cover the admin pages"


def fill(rule: str, ward) -> str:
    values = {"code": "ZZZZ-ZZZZ", "module_id": "stopping-safely", "name": "000_74d3c6befc6a713e.txt",
              "filename": "css/app.css", "unit_id": str(ward.unit_id), "assignment_id": str(ward.assignment_id),
              "user_id": str(ward.other_nurse_id),
              "table": "items", "question_id": "stop-feel-better"}
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], rule)


def client_as(app, role: str, ward):
    client = app.test_client()
    if role == "patient":
        assert client.post("/", data={"code": ward.code, "csrf_token": form_token(client, "/")}).status_code == 303
    elif role != "anonymous":
        name = {"nurse of another unit": ward.other_nurse, "nurse": ward.nurse, "admin": ward.admin}[role]
        assert sign_in(client, name).status_code == 303
    return client


def expected(role: str, endpoint: str, method: str, rule: str) -> set[int] | str:
    """The statuses this role may get, or a redirect target prefix."""
    if endpoint in PUBLIC:
        return {200, 303, 404, 422}
    if endpoint.startswith(PATIENT_PREFIXES):
        if role == "patient":
            return {200} if method == "GET" else {200, 303, 422}
        return "/"  # staff are not patients: sent to the start page
    if role in ("anonymous", "patient"):
        return "/staff/sign-in"
    if endpoint.startswith(ADMIN_PREFIXES):
        return {200, 302, 303, 422} if role == "admin" else {403}
    if role == "nurse of another unit" and ("<int:unit_id>" in rule or "<int:assignment_id>" in rule):
        return {404}
    return {200, 302, 303, 422}


@pytest.mark.parametrize("role", ROLES)
def test_every_route_for_every_role(app, ward, role):
    """Each route is requested by a fresh browser of each role (CSRF off: this walk checks access)."""
    app.config["WTF_CSRF_ENABLED"] = False
    problems = []
    for endpoint, method, rule in ALL_ROUTES:
        client = client_as(app, role, ward)
        response = client.open(fill(rule, ward), method=method)
        want = expected(role, endpoint, method, rule)
        if isinstance(want, str):
            location = response.headers.get("Location", "")
            if response.status_code != 303 or not location.startswith(want):
                problems.append(f"{method} {rule} ({endpoint}): {response.status_code} {location!r}, want 303 to {want}")
        elif response.status_code not in want:
            problems.append(f"{method} {rule} ({endpoint}): {response.status_code}, want one of {sorted(want)}")
        if role in ("anonymous", "nurse of another unit") and response.status_code < 400 \
                and response.mimetype.startswith("text/"):  # not the icon
            body = response.get_data(as_text=True)
            assert "Bed 3" not in body, f"{role} saw the Ward A patient on {method} {rule}"
        response.close()  # a streamed download (CSV) not read here ends now, inside this test
    assert not problems, f"{role}:\n" + "\n".join(problems)


@pytest.mark.parametrize("role", ["nurse of another unit", "nurse"])
def test_a_nurse_guessing_ids_of_another_unit_gets_404(app, ward, role):
    client = client_as(app, role, ward)
    foreign = ward.assignment_id if role == "nurse of another unit" else ward.other_assignment_id
    foreign_unit = ward.unit_id if role == "nurse of another unit" else ward.other_unit_id
    for path in (f"/nurse/assignments/{foreign}", f"/nurse/assignments/{foreign}/code",
                 f"/nurse/assignments/{foreign}/record", f"/nurse/units/{foreign_unit}",
                 f"/nurse/units/{foreign_unit}/assign", "/nurse/assignments/999999", "/nurse/units/999999"):
        assert client.get(path).status_code == 404, path
    token = form_token(client, "/nurse/")
    for action in ("revoke", "reissue", "expiry", "teach-back", "modules"):
        response = client.post(f"/nurse/assignments/{foreign}/{action}", data={"csrf_token": token, "valid_days": 3})
        assert response.status_code == 404, action


def test_an_admin_sees_every_unit(app, ward):
    client = client_as(app, "admin", ward)
    for unit_id, label in ((ward.unit_id, "Bed 3"), (ward.other_unit_id, "Bed 4")):
        assert label in client.get(f"/nurse/units/{unit_id}").get_data(as_text=True)


def test_a_patient_cannot_open_another_patients_module(app, client, assignment_code):
    Patient(client).start(assignment_code)  # assigned: stopping-safely and kidney-health
    assert client.get("/quiz/driving-and-alertness").status_code == 404


def test_security_headers_on_every_response(client):
    for path in ("/", "/no-such-page", "/static/css/app.css"):
        headers = client.get(path).headers
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY and "unsafe-eval" not in CONTENT_SECURITY_POLICY
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Frame-Options"] == "DENY"


def test_session_cookie_is_http_only_and_lax(client, assignment_code):
    response = Patient(client).start(assignment_code)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_templates_have_no_inline_script_style_or_handlers():
    from pathlib import Path

    for path in Path("templates").rglob("*.html"):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", source), path
        assert "<style" not in source and 'style="' not in source, path
        assert not re.search(r"\son[a-z]+=|hx-on", source), path
        assert "|safe" not in source, path
