"""A server killed in the middle of a burst of answers loses nothing it confirmed.

Patients answer as fast as the server lets them; once answers are flowing, master and workers are
SIGKILLed together (a crash, an out-of-memory kill), the server is started again on the same database
and socket, and every answer the server confirmed before dying (its 303 reply) must be stored. The
patients then carry on with the same cookies, on the same card the database says they are at.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.deploy.http import form_posting_to

PATIENTS = 24
KILL_AFTER_CONFIRMED = 60  # answers confirmed before the kill; the burst goes on until then


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_answers_confirmed_before_a_crash_survive_it(deploy, kind):
    with deploy.server(kind, workers=3, threads=4, name=f"restart-{kind}") as server:
        module_id = server.ready_modules()[0]
        made = server.new_assignments(PATIENTS, [module_id])
        browsers = {aid: server.browser(timeout=10) for aid, _ in made}
        for aid, code in made:
            assert browsers[aid].sign_in(code).status == 303

        confirmed: set[tuple[int, int]] = set()
        lock = threading.Lock()
        stop = threading.Event()
        card_url = f"/quiz/{module_id}"

        def answer_until_stopped(aid: int) -> None:
            browser = browsers[aid]
            while not stop.is_set():
                try:
                    page = browser.get(card_url).text
                    if (form := form_posting_to(page, "/next")) is not None:
                        browser.post(form.action, form.fields)
                        continue
                    form = form_posting_to(page, "/answer")
                    if form is None:
                        return  # module finished
                    reply = browser.post(form.action, {**form.fields, "choice": form.choices[0]})
                except OSError:
                    return  # the server died under this request: nothing was confirmed
                if reply.status == 303:
                    with lock:
                        confirmed.add((aid, int(form.fields["step"])))

        with ThreadPoolExecutor(max_workers=PATIENTS) as pool:
            for aid in browsers:
                pool.submit(answer_until_stopped, aid)
            deadline = time.monotonic() + 60
            while len(confirmed) < KILL_AFTER_CONFIRMED and time.monotonic() < deadline:
                time.sleep(0.01)
            server.kill()
            killed_with = len(confirmed)
            stop.set()
            # Requests sent while it was down wait in the socket's queue for the new server.
            server.start()
        assert killed_with >= KILL_AFTER_CONFIRMED, "the burst never got going"

        stored = {(a.assignment_id, a.step) for a in server.answers(browsers)}
        lost = confirmed - stored
        assert not lost, f"{len(lost)} confirmed answers were lost in the crash: {sorted(lost)[:10]}"
        if kind == "sqlite":
            with server.app.app_context():
                from quiz.extensions import db

                assert db.session.execute(db.text("PRAGMA integrity_check")).scalar() == "ok"
        # Everyone carries on after the restart, signed in as before, at the card the database holds.
        for browser in browsers.values():
            reply = browser.get(card_url)
            assert reply.status == 200
            assert form_posting_to(reply.text, "/answer") or form_posting_to(reply.text, "/next")
