"""The database work of the answer path, counted (never timed): what one answer and one Next cost in
SQL statements, commits and pool checkouts. The budgets are today's counts; a change that brings back
the old waste (the module's state read several times, the bank read from the database per request,
everything reloaded after the commit) fails here. If a change needs more, raise the budget in the same
commit and say why.

What the budget pays for, per request (the bank itself comes from memory, `quiz.bank.snapshot`):
the session row, the assignment with its modules and the bank's revision token (one query), the
module's answers, then the write (INSERT of the answer, or UPDATE of its acknowledgement) and one commit.

Most answers are just that. A few are *events* for the administrator's summary tables (`quiz.stats`:
a module's first answer, the end of its first pass, the module complete), which also refresh the
assignment's share of those tables in the same transaction; they have their own, larger budget.
"""
from __future__ import annotations

from collections import Counter
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from quiz.extensions import db
from tests.web.patient import Patient, text

ANSWER_BUDGET = {"statements": 4, "commits": 1, "checkouts": 1}
NEXT_BUDGET = {"statements": 4, "commits": 1, "checkouts": 1}
# An event answer also reads the assignment's answers and teach-back entries and upserts the
# difference of its share of the summary tables (`quiz.stats.store.refresh_assignment`).
EVENT_ANSWER_BUDGET = {"statements": 14, "commits": 1, "checkouts": 1}
# A question card (GET) writes nothing.
CARD_BUDGET = {"statements": 3, "commits": 0, "checkouts": 1}


@contextmanager
def counting(app):
    counts: Counter = Counter()
    with app.app_context():
        engine = db.engine
    listeners = [
        (engine, "before_cursor_execute", lambda *a: counts.update(["statements"])),
        (engine, "commit", lambda *a: counts.update(["commits"])),
        (engine.pool, "checkout", lambda *a: counts.update(["checkouts"])),
    ]
    for target, name, fn in listeners:
        event.listen(target, name, fn)
    try:
        yield counts
    finally:
        for target, name, fn in listeners:
            event.remove(target, name, fn)


def within(counts: Counter, budget: dict[str, int]) -> bool:
    return all(counts[name] <= limit for name, limit in budget.items())


def _past_the_first_answer(app, patient: Patient) -> tuple[str, Counter]:
    """Answer the module's first question right (an event) and move on; return the second question's
    card (the middle of the first pass: not an event) and what the first answer cost."""
    card = patient.card().text  # the first request of the process reads the bank into memory
    _, question = patient.question_on(card)
    with counting(app) as first:
        answered = patient.post_answer(card, choice=patient.choices(question, correct=True))
    patient.next(page=answered.text if patient.headers else patient.card().text)
    return patient.card().text, first


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_one_answer_and_one_next_stay_within_their_sql_budget(app, client, assignment_code, htmx):
    patient = Patient(client, htmx=htmx)
    patient.start(assignment_code)
    card, event_counts = _past_the_first_answer(app, patient)
    assert within(event_counts, EVENT_ANSWER_BUDGET), \
        f"a module's first answer: {dict(event_counts)}, budget {EVENT_ANSWER_BUDGET}"
    _, question = patient.question_on(card)  # the test's own look at the question, not counted
    wrong = patient.choices(question, correct=False)
    with counting(app) as answer_counts:
        answered = patient.post_answer(card, choice=wrong)
    assert answered.status_code == (200 if htmx else 303)
    feedback = answered.text if htmx else patient.card().text
    assert "Not quite" in text(answered) or not htmx
    with counting(app) as next_counts:
        moved_on = patient.next(page=feedback)
    assert moved_on.status_code == (200 if htmx else 303)
    assert within(answer_counts, ANSWER_BUDGET), f"one answer POST: {dict(answer_counts)}, budget {ANSWER_BUDGET}"
    assert within(next_counts, NEXT_BUDGET), f"one Next POST: {dict(next_counts)}, budget {NEXT_BUDGET}"


def test_a_question_card_stays_within_its_sql_budget(app, client, assignment_code):
    patient = Patient(client, htmx=True)
    patient.start(assignment_code)
    patient.card()
    with counting(app) as counts:
        assert patient.card().status_code == 200
    assert within(counts, CARD_BUDGET), f"one card GET: {dict(counts)}, budget {CARD_BUDGET}"


def test_the_budget_counts_what_it_claims(app, client, assignment_code):
    """The counter itself: a request that reads the bank from the database (a changed bank) costs
    more than the budget, so the budget test can fail."""
    patient = Patient(client, htmx=True)
    patient.start(assignment_code)
    card, _ = _past_the_first_answer(app, patient)
    with app.app_context():
        from quiz.models import BankRevision

        db.session.get(BankRevision, 1).token = "0" * 32  # as a reload on another server would
        db.session.commit()
    _, question = patient.question_on(card)
    right = patient.choices(question, correct=True)
    with counting(app) as counts:
        patient.post_answer(card, choice=right)
    assert counts["statements"] > ANSWER_BUDGET["statements"]
