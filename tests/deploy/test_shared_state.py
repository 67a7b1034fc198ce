"""No state in a process: rate limits and session endings hold across the workers of a real gunicorn
server (3 workers, threads) sharing Redis and the database, as several app servers behind a load
balancer would.

One server for the module: production configuration, `RATELIMIT_STORAGE_URI=redis://.../7` (its own
Redis database, emptied first), `PROXY_HOPS=1` so that each test can play a different client address
through `X-Forwarded-For` (as the reverse proxy would send it), at most 2 connections per worker at a
time, and an access log that names the worker (pid) of every request, so the tests can show their
requests really were spread over several workers rather than hope so.
"""
from __future__ import annotations

import itertools
import os
import re
from urllib.parse import urlsplit

import pytest

from quiz.extensions import db
from tests.deploy.conftest import missing
from tests.deploy.http import Browser, all_at_once, form_posting_to, forms
from tests.web.staff import add_staff, add_unit

REDIS_URL = os.environ.get("TEST_REDIS_SHARED_URL", "redis://127.0.0.1:6379/7")
WORKERS = 3
DEVICE_LIMIT, ADDRESS_LIMIT, ACCOUNT_LIMIT = 5, 30, 4
PASSWORD = "ward round password 7"
_probe = itertools.count()
_address = itertools.count(1)


def redis_or_skip():
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.flushdb()  # this module's own database number
        client.close()
    except Exception as error:  # noqa: BLE001 - any failure to reach it is "not reachable"
        missing(f"Redis is not reachable at {REDIS_URL}: {error}")


@pytest.fixture(scope="module")
def server(deploy):
    redis_or_skip()
    env = {
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "PROXY_HOPS": "1",
        "CODE_ATTEMPTS_PER_DEVICE": f"{DEVICE_LIMIT} per hour",
        "CODE_ATTEMPTS_PER_ADDRESS": f"{ADDRESS_LIMIT} per hour",
        "SIGN_IN_ATTEMPTS_PER_ACCOUNT": f"{ACCOUNT_LIMIT} per hour",
        # Each worker holds at most 2 connections at a time, so a burst of simultaneous requests cannot
        # all be taken by one worker (which the kernel allows): the bursts below reach several workers.
        "GUNICORN_CMD_ARGS": "--worker-connections 2 --access-logformat 'worker=%(p)s \"%(r)s\" %(s)s'",
    }
    with deploy.server("sqlite", workers=WORKERS, threads=4, env=env, name="shared-state") as server:
        with server.app.app_context():  # production password hashing, straight into its database
            ward = add_unit("Ward 7")
            for username, role in (("nina", "nurse"), ("noor", "nurse"), ("ada", "admin")):
                add_staff(username, role, [ward], password=PASSWORD)
            db.session.commit()
        yield server


def address() -> dict[str, str]:
    """A client address of its own for a test (what the proxy puts in X-Forwarded-For)."""
    return {"X-Forwarded-For": f"10.7.{next(_address)}.1"}




def workers_of(server, marker: str) -> set[str]:
    """The worker pids that served the requests whose URL carries `marker`."""
    return set(re.findall(rf"worker=<(\d+)> \"[A-Z]+ [^\"]*{re.escape(marker)}[^\"]*\"", server.log()))


def copy(browser: Browser) -> Browser:
    """Another device holding the same cookies: a replayed (stolen, or left behind) cookie."""
    twin = Browser(browser.base_url, browser.ssl_context)
    twin.cookies = dict(browser.cookies)
    return twin


def start_form(browser: Browser, headers: dict) -> dict:
    page = browser.get("/", headers=headers)
    form = next(f for f in forms(page.text) if "code" in f.fields)
    return form.fields


# --- rate limits ------------------------------------------------------------------------------------

def test_the_address_limit_is_exact_across_workers(server):
    """60 devices behind one address send a wrong code at the same instant: exactly the limit pass
    (counted in Redis before the code is checked), whichever worker each lands on."""
    where = address()
    devices = [Browser(server.url) for _ in range(2 * ADDRESS_LIMIT)]
    fields = [start_form(d, where) for d in devices]
    marker = f"race{next(_probe)}"
    replies = all_at_once([
        lambda d=d, f=f: d.post(f"/?{marker}", {**f, "code": "ACDEF-HJKMN"}, headers=where)
        for d, f in zip(devices, fields)
    ])
    statuses = sorted(r.status for r in replies)
    assert statuses == [422] * ADDRESS_LIMIT + [429] * ADDRESS_LIMIT, (statuses, server.log()[-2000:])
    assert len(workers_of(server, marker)) >= 2, "the burst was not spread over several workers"


def test_one_tablets_typos_lock_only_that_tablet_across_workers(server):
    """The ward rule with Redis: one tablet hammering wrong codes (20 at once) gets exactly its
    device limit through, on every worker; another tablet behind the same address still signs in."""
    where = address()
    (assignment_id, code), = server.new_assignments(1, server.ready_modules()[:1])
    typo_tablet, other_tablet = Browser(server.url), Browser(server.url)
    fields = start_form(typo_tablet, where)
    marker = f"typo{next(_probe)}"
    replies = all_at_once([
        lambda: typo_tablet.post(f"/?{marker}", {**fields, "code": "ACDEF-HJKMN"}, headers=where)
        for _ in range(4 * DEVICE_LIMIT)
    ])
    statuses = sorted(r.status for r in replies)
    assert statuses == [422] * DEVICE_LIMIT + [429] * 3 * DEVICE_LIMIT, (statuses, server.log()[-2000:])
    assert len(workers_of(server, marker)) >= 2, "the burst was not spread over several workers"
    assert typo_tablet.post("/", {**fields, "code": code}, headers=where).status == 429  # still locked
    other = start_form(other_tablet, where)
    assert other_tablet.post("/", {**other, "code": "ACDEF-HJKMN"}, headers=where).status == 422
    assert other_tablet.post("/", {**other, "code": code}, headers=where).status == 303


def test_the_staff_sign_in_limit_is_exact_across_workers(server):
    """Password guessing on one account from 12 browsers at once: exactly the account's limit are
    checked (and refused as wrong); the rest are refused unchecked, whichever worker took them."""
    where = address()
    browsers = [Browser(server.url) for _ in range(3 * ACCOUNT_LIMIT)]
    fields = [form_posting_to(b.get("/staff/sign-in", headers=where).text, "/staff/sign-in").fields for b in browsers]
    marker = f"guess{next(_probe)}"
    replies = all_at_once([
        lambda b=b, f=f: b.post(f"/staff/sign-in?{marker}", {**f, "username": "ward-lead", "password": "not it at all"},
                                headers=where)
        for b, f in zip(browsers, fields)
    ])
    statuses = sorted(r.status for r in replies)
    assert statuses == [422] * ACCOUNT_LIMIT + [429] * 2 * ACCOUNT_LIMIT, statuses
    assert len(workers_of(server, marker)) >= 2, "the burst was not spread over several workers"


# --- sessions ---------------------------------------------------------------------------------------

def still_signed_in(server, browser: Browser, path: str, headers: dict, copies: int = 12) -> list[bool]:
    """Replays `browser`'s cookie `copies` times at once (each a new connection, so they spread over
    the workers); True for each reply that still served the signed-in page (or sent it on within the
    signed-in area, as /nurse/ does to a nurse's unit), False for each sent to sign in again."""
    marker = f"replay{next(_probe)}"
    replies = all_at_once([lambda: copy(browser).get(f"{path}?{marker}", headers=headers)] * copies)
    served = workers_of(server, marker)
    assert len(served) >= 2, f"the replays reached only {len(served)} worker(s)"
    signed_out = ("/", "/staff/sign-in")
    return [r.status == 200 or (r.status in (302, 303) and urlsplit(r.location or "").path not in signed_out)
            for r in replies]


def patient(server, headers) -> tuple[Browser, int]:
    (assignment_id, code), = server.new_assignments(1, server.ready_modules()[:1])
    browser = Browser(server.url)
    assert browser.post("/", {**start_form(browser, headers), "code": code}, headers=headers).status == 303
    return browser, assignment_id


def staff(server, username: str, headers) -> Browser:
    browser = Browser(server.url)
    page = browser.get("/staff/sign-in", headers=headers)
    fields = form_posting_to(page.text, "/staff/sign-in").fields
    reply = browser.post("/staff/sign-in", {**fields, "username": username, "password": PASSWORD}, headers=headers)
    assert reply.status == 303, reply.text[:300]
    return browser


def post_form_on(browser: Browser, page_path: str, action_suffix: str, headers) -> int:
    page = browser.get(page_path, headers=headers)
    if page.status in (302, 303):  # /nurse/ sends a nurse on to their unit
        page = browser.get(urlsplit(page.location).path, headers=headers)
    form = form_posting_to(page.text, action_suffix)
    assert form is not None, f"no form posting to {action_suffix} on {page_path}"
    return browser.post(form.action, form.fields, headers=headers).status


def test_stop_for_now_ends_the_session_on_every_worker(server):
    where = address()
    browser, _ = patient(server, where)
    assert all(still_signed_in(server, browser, "/quiz", where))  # every worker has served it
    assert post_form_on(browser, "/leave", "/leave", where) == 303
    assert not any(still_signed_in(server, browser, "/quiz", where))


def test_staff_sign_out_ends_the_session_on_every_worker(server):
    where = address()
    nurse = staff(server, "nina", where)
    assert all(still_signed_in(server, nurse, "/nurse/", where))
    assert post_form_on(nurse, "/nurse/", "/staff/sign-out", where) == 303
    assert not any(still_signed_in(server, nurse, "/nurse/", where))


def test_a_reissued_code_ends_the_patients_sessions_on_every_worker(server):
    where = address()
    browser, assignment_id = patient(server, where)
    assert all(still_signed_in(server, browser, "/quiz", where))
    admin = staff(server, "ada", where)
    path = f"/nurse/assignments/{assignment_id}/reissue"
    assert post_form_on(admin, path, path, where) in (200, 303)
    assert not any(still_signed_in(server, browser, "/quiz", where))


def test_disabling_a_staff_account_ends_its_sessions_on_every_worker(server):
    where = address()
    nurse = staff(server, "noor", where)
    assert all(still_signed_in(server, nurse, "/nurse/", where))
    server.flask("users", "disable", "noor")
    assert not any(still_signed_in(server, nurse, "/nurse/", where))
