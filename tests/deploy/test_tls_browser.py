"""A patient signs in and answers over real HTTPS, in Chromium, against gunicorn in production
configuration (secure cookies, Flask-WTF's strict Referer check for HTTPS, HSTS).

This is how the `Referrer-Policy: no-referrer` bug escaped: over plain http Flask-WTF does not check
the Referer, so every test passed while every HTTPS sign-in got a 400. The certificate is made for the
test and trusted by its public-key pin only (`--ignore-certificate-errors-spki-list`), so everything
else about TLS is checked as usual.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.deploy.conftest import missing
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def tls_server(deploy, tls_files):
    with deploy.server("sqlite", tls=tls_files, workers=2, threads=4, name="tls") as server:
        server.env["PUBLIC_BASE_URL"] = server.url  # links printed by `flask assign` point here
        yield server


@pytest.fixture(scope="module")
def tls_browser(browser_type, tls_files):
    from pathlib import Path

    if not Path(CHROMIUM).exists():
        missing(f"the TLS browser test needs Debian's Chromium at {CHROMIUM} (make chromium)")
    browser = browser_type.launch(
        executable_path=CHROMIUM,
        args=[*CHROMIUM_ARGS, f"--ignore-certificate-errors-spki-list={tls_files.spki_sha256}"],
    )
    yield browser
    browser.close()


def _assign(server, module_id: str) -> str:
    """A nurse's `flask assign`, in production configuration; returns the printed link."""
    output = server.flask("assign", "--patient", "TLS bed", "--module", module_id).stdout
    return re.search(r"link:\s+(\S+)", output).group(1)


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-javascript"])
def test_sign_in_and_answer_over_https(tls_server, tls_browser, javascript):
    module_id = tls_server.ready_modules()[0]
    link = _assign(tls_server, module_id)
    assert link.startswith(tls_server.url + "/start/")
    context = tls_browser.new_context(java_script_enabled=javascript)
    context.set_default_timeout(10_000)
    page = context.new_page()
    refused, static = [], []
    page.on("response", lambda r: refused.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("response", lambda r: static.append(r) if "/static/" in r.url else None)

    first = page.goto(link)
    assert first.url.startswith("https://")
    headers = first.headers
    assert headers["strict-transport-security"].startswith("max-age=")
    assert headers["referrer-policy"] == "same-origin"

    page.locator("form:has(input[name=code]) [type=submit]").click()  # the link filled the code in
    expect(page).to_have_url(re.compile(r"/quiz$"))
    session = [c for c in context.cookies() if c["name"] == "session"]
    assert session and session[0]["secure"] and session[0]["httpOnly"]

    page.goto(f"{tls_server.url}/quiz/{module_id}")
    page.locator("#card input[name=choice]").first.check()
    page.locator("#card form[action$='/answer'] [type=submit]").click()
    next_button = page.locator("#card form[action$='/next'] [type=submit]")
    expect(next_button).to_be_visible()
    next_button.click()
    expect(page.locator("#card form[action$='/answer']")).to_be_visible()

    assert not refused, refused
    (answer,) = tls_server.answers([_assignment_of(tls_server, link)])
    assert answer.acknowledged_at is not None
    # What the browser really got: fingerprinted, long-cached, gzipped files; no code in the logs.
    if javascript:
        assert {r.url.split("?")[0].rsplit("/", 1)[1] for r in static} >= {"app.css", "htmx.min.js", "app.js"}
    for response in static:
        headers = response.all_headers()
        assert "immutable" in headers["cache-control"], response.url
        if response.url.split("?")[0].endswith((".css", ".js")):  # text; the icons are images already
            assert headers.get("content-encoding") == "gzip", response.url
    code = link.rsplit("/", 1)[1]
    assert code not in tls_server.log() and "/start/[code]" in tls_server.log()
    context.close()


def _assignment_of(server, link: str) -> int:
    from quiz.assignments import find_assignment

    with server.app.app_context():
        return find_assignment(link.rsplit("/", 1)[1]).id
