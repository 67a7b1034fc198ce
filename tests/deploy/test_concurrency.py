"""Many patients answering at once against a real multi-worker server, on SQLite and PostgreSQL.

Every patient double-, triple- and quadruple-submits each answer at the same instant (a shaky finger,
a slow phone, a retried request), each copy with a different choice. The server must answer every
request without a 5xx, and the database must end with exactly one answer per step, one of those
posted: the first stands. With SQLite in its old rollback-journal mode this burst produced "database
is locked" errors; WAL and the busy timeout are what make it pass.
"""
from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.deploy.http import all_at_once, form_posting_to

PATIENTS = 40
COPIES = 4  # the same step posted this many times at once
ROUNDS = 3  # answers per patient


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(deploy, request):
    with deploy.server(request.param, workers=3, threads=4) as server:
        yield server




def test_simultaneous_answers_are_stored_exactly_once(server):
    module_id = server.ready_modules()[0]
    made = server.new_assignments(PATIENTS, [module_id])
    browsers = {assignment_id: server.browser() for assignment_id, _ in made}
    with ThreadPoolExecutor(max_workers=8) as pool:
        signed_in = list(pool.map(lambda pair: browsers[pair[0]].sign_in(pair[1]), made))
    assert [r.status for r in signed_in] == [303] * PATIENTS

    posted: dict[tuple[int, int], set[tuple[str, ...]]] = defaultdict(set)
    statuses: list[tuple[str, int]] = []
    card_url = f"/quiz/{module_id}"
    for _ in range(ROUNDS):
        cards = {aid: b.get(card_url) for aid, b in browsers.items()}
        tasks = []
        for aid, card in cards.items():
            assert card.status == 200, card.text[:500]
            form = form_posting_to(card.text, "/answer")
            assert form is not None, f"patient {aid} has no question card"
            step = int(form.fields["step"])
            for copy in range(COPIES):
                choice = form.choices[copy % len(form.choices)]
                posted[(aid, step)].add((form.fields["question_id"], choice))
                tasks.append(lambda b=browsers[aid], f=form, c=choice: b.post(f.action, {**f.fields, "choice": c}))
        replies = all_at_once(tasks)
        statuses += [("answer", r.status) for r in replies]

        # Everyone reads their feedback and presses Next, twice at once.
        tasks = []
        for aid, browser in browsers.items():
            feedback = browser.get(card_url)
            form = form_posting_to(feedback.text, "/next")
            assert form is not None, f"patient {aid} sees no feedback after answering"
            tasks += [lambda b=browser, f=form: b.post(f.action, f.fields)] * 2
        statuses += [("next", r.status) for r in all_at_once(tasks)]

    unexpected = [s for s in statuses if s[1] != 303]
    assert not unexpected, f"{len(unexpected)} of {len(statuses)} posts were not 303: {unexpected[:10]}"
    answers = server.answers(browsers)
    assert len(answers) == PATIENTS * ROUNDS
    stored = defaultdict(list)
    for answer in answers:
        stored[answer.assignment_id].append(answer.step)
        assert (answer.question_id, str(answer.selected[0])) in posted[(answer.assignment_id, answer.step)]
        assert answer.acknowledged_at is not None
    assert all(steps == list(range(ROUNDS)) for steps in stored.values()), dict(stored)
    log = server.log()
    assert "Traceback" not in log and "database is locked" not in log, log[-3000:]
