"""A bank reload reaches every worker of a running multi-worker server at once.

Each gunicorn worker keeps the bank in memory (`quiz.bank.snapshot`) and checks the bank's revision
token once per request. Here the workers serve patients (so each has the old bank in memory), then
`questions load`, run as its own process the way a deploy runs it, stores a reviewed new wording of the
first question. From the next request on, every reply shows the new wording: a worker that kept its
old copy would show the old one to some of the patients.
"""
from __future__ import annotations

import html
import shutil

import pytest

from tests.deploy.server import PROJECT_ROOT

MODULE = "stopping-safely"
WORKERS = 3
REQUESTS = 8 * WORKERS  # per phase; the replies come from every worker in practice


@pytest.fixture(scope="module")
def bank_copy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bank-reload") / "questions"
    shutil.copytree(PROJECT_ROOT / "questions", folder)
    return folder


@pytest.fixture(scope="module")
def server(deploy, bank_copy):
    with deploy.server("sqlite", workers=WORKERS, threads=2, env={"QUESTIONS_DIR": str(bank_copy)}) as server:
        yield server


def first_prompt(path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("prompt:"):
            return line.split(":", 1)[1].strip().strip('"')
    raise AssertionError(f"no prompt in {path}")


def prompts_seen(server, browsers) -> list[str]:
    pages = []
    for number in range(REQUESTS):
        reply = browsers[number % len(browsers)].get(f"/quiz/{MODULE}")
        assert reply.status == 200, reply.text[:300]
        pages.append(html.unescape(reply.text))
    return pages


def test_every_worker_shows_the_reloaded_bank_at_its_next_request(server, bank_copy):
    path = bank_copy / f"{MODULE}.yaml"
    old = first_prompt(path)
    browsers = []
    for _, code in server.new_assignments(4, [MODULE]):
        browser = server.browser()
        assert browser.sign_in(code).status == 303
        browsers.append(browser)
    assert all(old in page for page in prompts_seen(server, browsers))

    # A new wording with a new review date: a reviewed new version, which patients are shown.
    new = old.replace("What should you do", "What is the safe thing to do")
    assert new != old
    source = path.read_text(encoding="utf-8")
    edited = source.replace(f'prompt: "{old}"', f'prompt: "{new}"', 1).replace(
        "reviewed_on: 2026-11-22", "reviewed_on: 2026-11-23", 1)
    assert edited.count(new) == 1
    path.write_text(edited, encoding="utf-8")
    loaded = server.flask("questions", "load")
    assert "stop-feel-better" in loaded.stdout + loaded.stderr

    pages = prompts_seen(server, browsers)
    stale = [page for page in pages if old in page]
    assert not stale, f"{len(stale)} of {len(pages)} replies still showed the old wording"
    assert all(new in page for page in pages)
