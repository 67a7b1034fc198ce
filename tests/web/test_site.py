"""Site-wide pieces: the text-size control (no JavaScript needed, remembered on the device), the app
icon at /favicon.ico and the web app manifest."""
from __future__ import annotations

import json
import re

import pytest

from quiz.site import TEXT_SIZE_COOKIE, TEXT_SIZES, local_path
from tests.conftest import csrf_token
from tests.web.patient import Patient, text


def choose_size(client, size, next_path="/"):
    token = csrf_token(client.get(next_path if next_path.startswith("/") else "/").text)
    return client.post("/text-size", data={"size": size, "next": next_path, "csrf_token": token})


def pressed(page: str) -> list[str]:
    return re.findall(r'name="size" value="([a-z]+)"[^>]*\s+aria-pressed="true"', page)


def test_every_page_offers_the_sizes_with_the_current_one_pressed(client):
    page = client.get("/").text
    assert len(TEXT_SIZES) >= 3
    assert re.findall(r'name="size" value="([a-z]+)"', page) == list(TEXT_SIZES)
    assert pressed(page) == ["standard"] and 'class="text-standard"' in page
    assert 'action="/text-size"' in page and 'name="next" value="/"' in page


@pytest.mark.parametrize("size", list(TEXT_SIZES))
def test_choosing_a_size_is_remembered_on_the_device_and_goes_back_to_the_page(client, assignment_code, size):
    Patient(client).start(assignment_code)
    response = choose_size(client, size, "/quiz/stopping-safely")
    assert response.status_code == 303 and response.headers["Location"] == "/quiz/stopping-safely"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{TEXT_SIZE_COOKIE}={size};") and "HttpOnly" in cookie and "Max-Age=31536000" in cookie
    page = client.get("/quiz/stopping-safely").text
    assert f'<html lang="en" class="text-{size}">' in page and pressed(page) == [size]
    client.post("/leave", data={"csrf_token": csrf_token(page)})  # signing out keeps the size
    assert f'class="text-{size}"' in client.get("/").text


def test_an_unknown_size_changes_nothing(client):
    response = choose_size(client, "huge")
    assert response.status_code == 303 and TEXT_SIZE_COOKIE not in response.headers.get("Set-Cookie", "")
    client.set_cookie(TEXT_SIZE_COOKIE, "<script>")
    assert 'class="text-standard"' in client.get("/").text


def test_the_size_form_needs_its_csrf_token(client):
    response = client.post("/text-size", data={"size": "large", "next": "/"})
    assert response.status_code == 400 and TEXT_SIZE_COOKIE not in response.headers.get("Set-Cookie", "")


def test_a_page_shown_after_a_failed_post_sends_the_size_form_back_to_its_own_address(client, assignment_code):
    patient = Patient(client)
    patient.start(assignment_code)
    response = patient.post_answer(patient.card().text)  # no choice: 422 at /quiz/<module>/answer
    assert response.status_code == 422
    assert 'name="next" value="/quiz/stopping-safely"' in response.text


@pytest.mark.parametrize("raw", ["https://evil.example/", "//evil.example", "/\\evil.example", "http:/x",
                                 "javascript:alert(1)", "", "quiz", "/ok\nSet-Cookie: x"])
def test_only_paths_on_this_site_are_followed(raw):
    assert local_path(raw, "/fallback") == "/fallback"


@pytest.mark.parametrize("raw", ["/", "/quiz/stopping-safely", "/sources/a.txt?passage=1-2&module=x"])
def test_paths_on_this_site_are_kept(raw):
    assert local_path(raw, "/fallback") == raw


def test_favicon_and_manifest_are_served_and_every_icon_exists(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/vnd.microsoft.icon"
    assert icon.data[:4] == b"\x00\x00\x01\x00"  # an .ico file
    page = client.get("/").text
    for href in re.findall(r'<link rel="(?:icon|apple-touch-icon|manifest)" href="([^"]+)"', page):
        assert client.get(href).status_code == 200, href
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200 and response.mimetype == "application/manifest+json"
    manifest = json.loads(response.data)
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    assert {i["sizes"] for i in manifest["icons"]} >= {"192x192", "512x512"}
    assert any(i["purpose"] == "maskable" for i in manifest["icons"])
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200, icon["src"]


def test_the_text_size_control_is_on_pages_outside_the_quiz_too(client):
    for path in ("/no-such-page", "/sources/000_74d3c6befc6a713e.txt"):
        assert 'action="/text-size"' in text(client.get(path))
