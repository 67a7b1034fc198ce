"""Coming back later: the code alone (in a fresh browser, no cookies) brings the patient back to where
they were; "Stop for now" signs a shared tablet out without losing anything."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def squash(text: str) -> str:
    return " ".join(text.split())


def fresh_page(new_context):
    context = new_context()
    context.set_default_timeout(10_000)
    assert context.cookies() == []
    return context, context.new_page()


def test_resume_in_a_new_browser(new_context, live_server, new_code, patient):
    module = live_server.module_with_retry()
    total = len(module.key_points)
    code = new_code([module.id])

    # Visit 1: one question right (and moved on), the next one wrong; the tab is closed on its feedback.
    context, page = fresh_page(new_context)
    p = patient(page)
    p.start(code)
    p.open_module(module.id)
    first = p.answer(correct=True)
    p.next()
    second = p.answer(correct=False)
    progress = p.progress_label()
    assert progress == f"Question 2 of about {total + 1}"  # one right, one missed: it comes back
    context.close()

    # Visit 2, new browser: the same code lands on that unread feedback card, progress kept.
    context, page = fresh_page(new_context)
    p = patient(page)
    page.goto("/quiz")
    expect(page.get_by_role("heading", level=1, name="Welcome")).to_be_visible()  # not signed in here
    expect(page.get_by_text("Please enter your code to carry on. Your answers are saved.")).to_be_visible()
    p.start(code.lower())
    item = p.module_item(module.id)
    expect(item.locator(".module-status")).to_have_text("Started")
    expect(item.get_by_role("link", name="Carry on")).to_be_visible()
    p.open_module(module.id)
    p.expect_feedback(correct=False)
    assert p.feedback_prompt() == squash(second.prompt)
    assert p.progress_label() == progress
    p.next()
    third = p.question()
    assert third.id != second.id
    context.close()

    # Visit 3, through the printed link this time: the question that was showing, nothing answered twice.
    context, page = fresh_page(new_context)
    p = patient(page)
    page.goto(f"/start/{code}")
    expect(page.get_by_label("Enter the code from your nurse")).to_have_value(code)
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("heading", level=1, name="Your topics")).to_be_visible()
    p.open_module(module.id)
    assert p.kind() == "question"
    assert p.question() == third
    assert p.progress_label() == f"Question 3 of about {total + 1}"
    stored = live_server.answers(code, module.id)
    assert [(a["question_id"], a["correct"], a["acknowledged"]) for a in stored] == [
        (first.id, True, True), (second.id, False, True),
    ]
    context.close()


def test_stop_for_now_signs_out_and_keeps_progress(page, live_server, patient):
    module = live_server.smallest_module()
    p = patient(page)
    code = p.begin(module)
    p.answer(correct=True)
    p.stop_for_now()
    expect(page.get_by_text("You have left the quiz on this device.")).to_be_visible()

    # The module page is closed to this browser now.
    page.goto(f"/quiz/{module.id}")
    expect(page.get_by_role("heading", level=1, name="Welcome")).to_be_visible()
    expect(page.locator("#card.card-feedback")).to_have_count(0)

    p.start(code)
    p.open_module(module.id)
    p.expect_feedback(correct=True)
    assert len(live_server.answers(code)) == 1
