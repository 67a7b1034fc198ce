"""What production serving adds to every response: HTTPS that works with the strict CSRF check, HSTS,
fingerprinted long-cached static files, gzip, a request size limit, honest error pages, /healthz."""
from __future__ import annotations

import gzip
import re

import pytest
from sqlalchemy.exc import OperationalError

from quiz.extensions import db
from tests.conftest import csrf_token, make_app
from tests.web.patient import HX, Patient, answers_stored

HTTPS = "https://quiz.example"


# --- HTTPS --------------------------------------------------------------------------------------------


def _start_over_https(client, code, referer):
    token = csrf_token(client.get("/", base_url=HTTPS).text)
    headers = {"Referer": referer} if referer else {}
    return client.post("/", data={"code": code, "csrf_token": token}, base_url=HTTPS, headers=headers)


def test_https_sign_in_works_with_a_same_origin_referer(client, assignment_code):
    assert _start_over_https(client, assignment_code, f"{HTTPS}/start/X").status_code == 303


@pytest.mark.parametrize("referer", [None, "https://evil.example/", "http://quiz.example/"])
def test_https_posts_without_a_same_origin_referer_are_refused(client, assignment_code, referer):
    """Flask-WTF's strict check: why the Referrer-Policy must let same-origin Referers through."""
    assert _start_over_https(client, assignment_code, referer).status_code == 400


def test_referrer_policy_keeps_links_on_the_site(client):
    assert client.get("/").headers["Referrer-Policy"] == "same-origin"


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    assert client.get("/", base_url=HTTPS).headers["Strict-Transport-Security"] == "max-age=31536000"


def test_hsts_and_strict_csrf_behind_a_proxy_that_says_https(bank, assignment_code, app):
    """Behind a TLS proxy with PROXY_HOPS=1 the app sees https from X-Forwarded-Proto and the public
    host from X-Forwarded-Host, so HSTS is sent and the Referer check compares the right origin."""
    app.config["PROXY_HOPS"] = 1
    from werkzeug.middleware.proxy_fix import ProxyFix

    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    client = app.test_client()
    proxy = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "quiz.example", "X-Forwarded-For": "10.0.0.7"}
    page = client.get("/", headers=proxy)
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    token = csrf_token(page.text)
    ok = client.post("/", data={"code": assignment_code, "csrf_token": token},
                     headers={**proxy, "Referer": "https://quiz.example/"})
    assert ok.status_code == 303
    assert client.post("/", data={"code": assignment_code, "csrf_token": token}, headers=proxy).status_code == 400


def test_hsts_can_be_turned_off(app, client):
    app.config["HSTS_SECONDS"] = 0
    assert "Strict-Transport-Security" not in client.get("/", base_url=HTTPS).headers


def test_production_session_cookie_is_secure(monkeypatch, bank):
    app = make_app(QUIZ_ENV="production", SECRET_KEY="s" * 32, SQLALCHEMY_DATABASE_URI="sqlite://")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    response = app.test_client().get("/", base_url=HTTPS)
    assert "Secure" in response.headers["Set-Cookie"] and "HttpOnly" in response.headers["Set-Cookie"]


# --- static files -------------------------------------------------------------------------------------


def _static_links(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def test_pages_link_static_files_by_content_fingerprint(client):
    links = _static_links(client.get("/").text)
    assert links and all(re.search(r"\?v=[0-9a-f]{16}$", link) for link in links), links


def test_fingerprinted_files_are_cached_for_a_year_and_immutable(client):
    for link in _static_links(client.get("/").text):
        response = client.get(link)
        assert response.status_code == 200
        cache = response.cache_control
        assert cache.public and cache.max_age == 365 * 24 * 3600 and cache.immutable, link


@pytest.mark.parametrize("query", ["", "?v=0123456789abcdef"])
def test_unfingerprinted_or_stale_urls_are_revalidated_not_pinned(client, query):
    response = client.get(f"/static/css/app.css{query}")
    assert response.status_code == 200
    assert response.cache_control.no_cache and not response.cache_control.max_age


def test_static_files_are_gzipped_when_accepted_and_revalidate_with_their_etag(client):
    link = next(link for link in _static_links(client.get("/").text) if "app.css" in link)
    plain = client.get(link)
    zipped = client.get(link, headers={"Accept-Encoding": "gzip, br"})
    assert "Content-Encoding" not in plain.headers and zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"] and "Accept-Encoding" in plain.headers["Vary"]
    assert gzip.decompress(zipped.data) == plain.data
    assert len(zipped.data) < len(plain.data) / 2
    assert plain.headers["ETag"] != zipped.headers["ETag"]
    again = client.get(link, headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_unknown_and_escaping_static_paths_are_404(client):
    assert client.get("/static/nope.css").status_code == 404
    assert client.get("/static/../quiz/config.py").status_code == 404


# --- compressed pages ---------------------------------------------------------------------------------


def test_pages_and_htmx_fragments_are_gzipped_when_accepted(client, assignment_code):
    patient = Patient(client)
    patient.start(assignment_code)
    for headers in ({}, HX):
        plain = client.get(patient.url, headers=headers)
        zipped = client.get(patient.url, headers={**headers, "Accept-Encoding": "gzip"})
        assert zipped.headers["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain.headers
        assert "Accept-Encoding" in zipped.headers["Vary"] and "HX-Request" in zipped.headers["Vary"]
        unzipped = gzip.decompress(zipped.data).decode()
        # Same page apart from the CSRF token, which is signed anew on every render.
        assert re.sub(r'value="[^"]{60,}"', "", unzipped) == re.sub(r'value="[^"]{60,}"', "", plain.text)
        assert len(zipped.data) < len(plain.data) / 2


def test_tiny_responses_are_not_compressed(client):
    response = client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert response.text == "ok\n" and "Content-Encoding" not in response.headers


# --- limits and errors --------------------------------------------------------------------------------


def test_oversized_requests_get_a_clear_413(client):
    response = client.post("/", data={"code": "x" * (70 * 1024)})
    assert response.status_code == 413
    assert "too much to send" in response.text and "nothing was saved" in response.text


def _fail_commits(monkeypatch):
    def failing_commit():
        raise OperationalError("COMMIT", {}, Exception("database is locked"))

    monkeypatch.setattr(db.session, "commit", failing_commit)


@pytest.mark.parametrize("headers", [{}, HX], ids=["form", "htmx"])
def test_a_failed_commit_tells_the_patient_the_answer_may_not_be_saved(app, client, assignment_code,
                                                                       monkeypatch, headers):
    patient = Patient(client, htmx=bool(headers))
    patient.start(assignment_code)
    page = patient.card().text
    _fail_commits(monkeypatch)
    response, _ = patient.answer(True, page)
    monkeypatch.undo()
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert "may not be saved" in response.text and 'id="card"' in response.text
    assert "are saved" not in response.text
    assert answers_stored(app) == 0
    # The patient goes back and finds the same question, ready to answer again.
    assert patient.question_on(patient.card().text)[0] == 0


def test_the_generic_error_page_promises_nothing_it_cannot_know(bank):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("bug")

    with app.app_context():
        db.create_all()
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "may not be saved" in response.text and "are saved" not in response.text


def test_healthz_reports_the_database(app, client, monkeypatch):
    assert client.get("/healthz").status_code == 200
    original = db.session.execute

    def unreachable(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db.session, "execute", unreachable)
    response = client.get("/healthz")
    monkeypatch.setattr(db.session, "execute", original)
    assert response.status_code == 503 and response.headers["Cache-Control"] == "no-store"
