"""The database work of the answer path, counted (never timed): what one answer and one Next cost in
SQL statements, commits and pool checkouts. The budgets are today's counts; a change that brings back
the old waste (the module's state read several times, the bank read from the database per request,
everything reloaded after the commit) fails here. If a change needs more, raise the budget in the same
commit and say why.

What the budget pays for, per request (the bank itself comes from memory, `quiz.bank.snapshot`):
the session row, the assignment with its modules and the bank's revision token (one query), the
module's answers, then the write (INSERT of the answer, or UPDATE of its acknowledgement) and one commit.
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


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_one_answer_and_one_next_stay_within_their_sql_budget(app, client, assignment_code, htmx):
    patient = Patient(client, htmx=htmx)
    patient.start(assignment_code)
    card = patient.card().text  # the first request of the process reads the bank into memory
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
    card = patient.card().text
    with app.app_context():
        from quiz.models import BankRevision

        db.session.get(BankRevision, 1).token = "0" * 32  # as a reload on another server would
        db.session.commit()
    _, question = patient.question_on(card)
    right = patient.choices(question, correct=True)
    with counting(app) as counts:
        patient.post_answer(card, choice=right)
    assert counts["statements"] > ANSWER_BUDGET["statements"]
