"""A patient whose browser runs no JavaScript: every step is a plain form post and a 303 redirect."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


@pytest.fixture
def nojs_page(new_context):
    context = new_context(java_script_enabled=False)
    context.set_default_timeout(10_000)
    return context.new_page()


def test_whole_module_without_javascript(nojs_page, live_server, new_code, patient):
    page = nojs_page
    module = live_server.module_with_retry()
    code = new_code([module.id])
    posts = []
    page.on("response", lambda r: posts.append((r.url, r.status)) if r.request.method == "POST" else None)
    p = patient(page)
    p.start(code)
    assert posts[-1] == (f"{live_server.url}/", 303)
    p.open_module(module.id)

    # Sending nothing: the 422 page shows the error inside the choices' fieldset, tied to it for AT.
    q = p.question()
    expected = "Choose at least one answer." if q.type == "multiple" else "Choose an answer."
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        p.submit()
    assert posted.value.status == 422
    error = page.locator("#card fieldset.choices #choice-error")
    expect(error).to_have_text(f"Error: {expected}")
    expect(page.locator("#card fieldset.choices")).to_have_attribute("aria-describedby", "choice-help choice-error")
    expect(page.locator("#card fieldset.choices")).to_have_class("choices field-error")
    assert p.question() == q, "the same question is shown again"
    assert live_server.answers(code) == []

    # Now the whole module: the first answer wrong, then right until it is finished.
    del posts[:]
    history = p.finish(first_wrong=True)
    assert history[0] == (q, False)
    answer_posts = [s for u, s in posts if u.endswith("/answer")]
    next_posts = [s for u, s in posts if u.endswith("/next")]
    assert answer_posts and set(answer_posts) == {303}
    assert next_posts and set(next_posts) == {303}
    expect(page).to_have_url(f"{live_server.url}/quiz/{module.id}")
    stored = live_server.answers(code, module.id)
    assert [a["question_id"] for a in stored] == [h.id for h, _ in history]
    assert [a["correct"] for a in stored] == [c for _, c in history]
    assert all(a["acknowledged"] for a in stored)

    # Summary without JavaScript: no print button (it needs JS), everything else there.
    page.get_by_role("link", name="See my results").click()
    expect(page.get_by_role("heading", level=1, name="You have finished")).to_be_visible()
    total = len(module.key_points)
    result = page.locator("ul.topic-results > li").filter(has_text=module.title)
    expect(result).to_contain_text(f"Right the first time: {total - 1} of {total}")
    expect(page.locator(".for-nurse")).to_contain_text(q.key_point)
    expect(page.get_by_role("button", name="Print this page")).to_be_hidden()

    # "Stop for now" asks first, on a page of its own, and "No" goes back where the patient was.
    page.get_by_role("link", name="Stop for now").click()
    expect(page.get_by_role("heading", level=1, name="Stop for now?")).to_be_visible()
    page.get_by_role("link", name="No, go back").click()
    expect(page).to_have_url(f"{live_server.url}/summary")
    p.stop_for_now()
    expect(page.get_by_text("You have left the quiz on this device.")).to_be_visible()


def test_single_choice_error_without_javascript(nojs_page, live_server, new_code, patient):
    """The brief's message for radio questions: "Choose an answer." next to the choices."""
    page = nojs_page
    module = next((m for m in live_server.modules.values() if m.questions[0].type != "multiple"), None)
    if module is None:
        pytest.skip("every module starts with a multiple-answer question")
    p = patient(page)
    p.start(new_code([module.id]))
    p.open_module(module.id)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        p.submit()
    assert posted.value.status == 422
    expect(page.locator("#card fieldset.choices").get_by_text("Choose an answer.")).to_be_visible()
    # The choices stay usable after the error: answering now works.
    p.answer(correct=True)


def test_double_click_without_javascript(nojs_page, live_server, patient):
    page = nojs_page
    module = live_server.smallest_module()
    p = patient(page)
    code = p.begin(module)
    q = p.question()
    p.choose(q.correct)
    page.get_by_role("button", name="Check my answer").dblclick()
    p.expect_feedback(correct=True)
    page.wait_for_load_state()
    expect(page.locator("#card")).to_have_count(1)
    assert len(live_server.answers(code)) == 1


def test_refresh_and_back_without_javascript(nojs_page, live_server, patient):
    page = nojs_page
    module = live_server.smallest_module()
    p = patient(page)
    code = p.begin(module)
    q = p.answer(correct=False)
    page.reload()  # a GET after the 303: no "resend the form?" and no second answer
    p.expect_feedback(correct=False)
    assert p.feedback_prompt() == " ".join(q.prompt.split())
    page.go_back()  # to the question page's history entry: it is fetched again and shows the current card
    expect(page.locator("#card")).to_have_count(1)
    assert p.kind() == "feedback"
    p.next()
    assert p.kind() == "question"
    page.go_back()
    assert p.kind() == "question"
    assert len(live_server.answers(code)) == 1
