"""Access rules proven over every route in the app, so a new route cannot forget them."""
from __future__ import annotations

import re

import pytest

from quiz import CONTENT_SECURITY_POLICY
from tests.conftest import make_app
from tests.web.patient import Patient

# Endpoints anyone may open without a code. Everything else needs one.
PUBLIC = {"static", "patient.start", "patient.start_link", "sources.source_show",
          "site.favicon", "site.manifest", "site.text_size"}
# Public endpoints that answer with a redirect by design (not because a code is missing).
REDIRECTS = {"site.text_size"}
SAMPLE_VALUES = {"code": "ZZZZ-ZZZZ", "module_id": "stopping-safely", "name": "000_74d3c6befc6a713e.txt",
                 "filename": "css/app.css"}


def routes():
    app = make_app()
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, re.sub(r"<(?:\w+:)?(\w+)>", lambda m: SAMPLE_VALUES[m.group(1)], rule.rule)


ALL_ROUTES = sorted(set(routes()))


def test_every_route_is_classified():
    assert {endpoint for endpoint, _, _ in ALL_ROUTES} >= PUBLIC


@pytest.mark.parametrize("endpoint, method, path", ALL_ROUTES)
def test_anonymous_access(app, endpoint, method, path):
    app.config["WTF_CSRF_ENABLED"] = False  # reach the access check, not the CSRF check
    response = app.test_client().open(path, method=method)
    if endpoint in PUBLIC:
        allowed = (303,) if endpoint in REDIRECTS else (200, 404, 422)
        assert response.status_code in allowed, (endpoint, response.status_code)
        assert "assignment_id" not in response.headers.get("Set-Cookie", "")
    else:
        assert response.status_code == 303 and response.headers["Location"] == "/", endpoint


@pytest.mark.parametrize("endpoint, method, path", [r for r in ALL_ROUTES if r[1] == "GET"])
def test_patient_with_a_code_reaches_every_page(app, client, assignment_code, endpoint, method, path):
    Patient(client).start(assignment_code)
    response = client.get(path)
    assert response.status_code == 200, endpoint


def test_a_patient_cannot_open_another_patients_module(app, client, assignment_code):
    Patient(client).start(assignment_code)  # assigned: stopping-safely and kidney-health
    assert client.get("/quiz/driving-and-alertness").status_code == 404


def test_security_headers_on_every_response(client):
    for path in ("/", "/no-such-page", "/static/css/app.css"):
        headers = client.get(path).headers
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY and "unsafe-eval" not in CONTENT_SECURITY_POLICY
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
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
