"""In a real browser, checked with axe-core: a key point missed twice is parked and the topic ends with
"go over these with your nurse"; after the nurse's teach-back the patient gets one re-check question;
and a question answered in one tab, then sent from an older tab, says so plainly."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from quiz.grading import ASK_NURSE_AFTER_MISSES

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def test_a_parked_key_point_ends_the_topic_with_the_nurse_then_one_re_check(new_context, live_server, patient,
                                                                             axe_check):
    context = new_context(**PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    module = live_server.module_with_retry()
    p = patient(page)
    code = p.begin(module)
    page.wait_for_function("() => window.htmx !== undefined")
    target = module.key_points[0]
    misses = 0
    for _ in range(40):
        kind = p.kind()
        if kind == "complete":
            break
        if kind == "feedback":
            p.next()
            continue
        q = p.question()
        wrong = q.key_point == target
        p.answer(correct=not wrong)
        misses += wrong
        if wrong and misses == ASK_NURSE_AFTER_MISSES:
            notice = page.locator("#card .notice-nurse")
            expect(notice).to_have_text(
                "This one is tricky. Ask your nurse to go over it with you. We will not ask about it again until then.")
            expect(page.locator("#card .result-detail")).not_to_contain_text("We will ask about this again soon")
            expect(page.get_by_role("button", name="Finish this topic")).to_be_visible()
            axe_check(page, "phone feedback after the second miss")
    else:
        raise AssertionError("the topic never ended")
    asked = [a for a in live_server.answers(code) if a["question_id"] in
             {q.id for q in module.questions_on(target)}]
    assert len(asked) == ASK_NURSE_AFTER_MISSES, "a parked key point was asked again"

    # The ending: finished, not failed, with the points for the nurse listed.
    expect(page.locator("#card-title")).to_have_accessible_name("You have finished this topic")
    box = page.locator("#card .nurse-ending")
    expect(box.get_by_role("heading", name="Go over these with your nurse")).to_be_visible()
    expect(box.locator("li")).to_have_text([target])
    axe_check(page, "phone topic ended with a point for the nurse")

    page.get_by_role("link", name="All my topics").first.click()
    item = p.module_item(module.id)
    expect(item.locator(".tag-nurse")).to_have_text("Talk with your nurse")
    axe_check(page, "phone topics with a point for the nurse")
    page.goto("/summary")
    expect(page.locator(".for-nurse").filter(
        has=page.get_by_role("heading", name="Go over these with your nurse"))).to_contain_text(target)
    axe_check(page, "phone results with a point for the nurse")

    # The nurse goes over it and charts understanding: one more question, said to be one.
    live_server.teach_back(code, module.id, target)
    page.goto("/quiz")
    expect(p.module_item(module.id).locator(".module-status")).to_have_text(
        "Your nurse went over a point with you. There is one more question.")
    p.open_module(module.id)
    expect(page.locator("#card .recheck-note")).to_have_text(
        "Your nurse went over this with you. Here is one more question about it.")
    axe_check(page, "phone re-check question after the teach-back")
    q = p.answer(correct=True)
    assert q.key_point == target
    p.next()
    expect(page.locator("#card-title")).to_have_accessible_name("You have finished this topic")
    expect(page.locator("#card .nurse-ending")).to_have_count(0)


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-javascript"])
def test_an_older_tab_says_the_question_was_answered_on_another_screen(new_context, live_server, patient,
                                                                      axe_check, javascript):
    context = new_context(java_script_enabled=javascript)
    context.set_default_timeout(10_000)
    module = live_server.smallest_module()
    first_tab, old_tab = context.new_page(), context.new_page()
    first = patient(first_tab)
    code = first.begin(module)
    old_tab.goto(f"/quiz/{module.id}")  # the same question, in a second tab
    old = patient(old_tab)
    question = old.question()
    if javascript:
        first_tab.wait_for_function("() => window.htmx !== undefined")
        old_tab.wait_for_function("() => window.htmx !== undefined")

    first.answer(correct=True)
    first.next()
    old.choose(question.wrong or question.correct)
    old.submit()
    notice = old_tab.locator("#card .notice")
    expect(notice).to_have_text("You already answered this question on another screen. Here is the next one.")
    expect(old_tab.locator("#card.card-question")).to_have_count(1)
    assert old.question().key_point == module.key_points[1]
    stored = live_server.answers(code)
    assert [(a["question_id"], a["correct"]) for a in stored] == [(question.id, True)]
    if javascript:  # axe runs inside the page: it needs JavaScript (page.evaluate never returns without)
        axe_check(old_tab, "answered on another screen")
