"""axe-core (default rules: WCAG 2 A/AA and best practices) on every state a patient can see, on a
desktop, a tablet and a phone viewport. Set E2E_SHOTS=/tmp/e2e-shots to keep a screenshot of each."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "tablet": {"viewport": {"width": 820, "height": 1180}, "is_mobile": True, "has_touch": True},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}


@pytest.fixture(params=list(VIEWPORTS))
def screen(request, new_context):
    context = new_context(**VIEWPORTS[request.param])
    context.set_default_timeout(10_000)
    return request.param, context.new_page()


def test_axe_pages_before_signing_in(screen, axe_check, live_server):
    name, page = screen
    page.goto("/")
    expect(page.get_by_label("Enter the code from your nurse")).to_be_visible()
    axe_check(page, f"{name} start page")

    page.get_by_label("Enter the code from your nurse").fill("ABCD-EFGH")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Start").click()
    assert posted.value.status == 422
    error = page.locator("#code-error")
    expect(error).to_contain_text("We could not open a quiz with that code")
    expect(page.get_by_label("Enter the code from your nurse")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Enter the code from your nurse")).to_have_attribute(
        "aria-describedby", "code-hint code-error"
    )
    axe_check(page, f"{name} start page with wrong code")

    page.get_by_label("Enter the code from your nurse").fill("")
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#code-error")).to_contain_text("Enter the code your nurse gave you.")
    axe_check(page, f"{name} start page with empty code")

    page.goto("/start/ZZZZ-ZZZZ")
    expect(page.get_by_label("Enter the code from your nurse")).to_have_value("ZZZZ-ZZZZ")
    axe_check(page, f"{name} start link filled in")
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#code-error")).to_contain_text("We could not open a quiz with that code")
    axe_check(page, f"{name} start link with wrong code")

    page.goto("/quiz")  # not signed in: back to the start page with a notice
    expect(page.get_by_text("Please enter your code to carry on.")).to_be_visible()
    axe_check(page, f"{name} start page asking for the code again")

    response = page.goto("/no-such-page")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1, name="Page not found")).to_be_visible()
    axe_check(page, f"{name} page not found")

    response = page.goto("/sources/no-such-source.txt")
    assert response.status == 404
    axe_check(page, f"{name} unknown source")


def test_axe_every_quiz_state(screen, axe_check, live_server, new_code, patient):
    name, page = screen
    module = live_server.module_with_retry()
    other = next(m for m in live_server.modules.values() if m.id != module.id)
    code = new_code([module.id, other.id])
    p = patient(page)
    p.start(code)
    axe_check(page, f"{name} topics not started")
    p.open_module(module.id)
    page.wait_for_function("() => window.htmx !== undefined")

    wanted_types = {q.type for q in module.questions}
    checked_types: set[str] = set()
    empty_error_types: set[str] = set()
    checked = set()
    asked = []
    source_href = None
    for _ in range(3 * len(module.questions)):
        kind = p.kind()
        if kind == "complete":
            parked = page.locator("#card .nurse-ending li").all_inner_texts()
            if not parked or checked_types == wanted_types:
                break
            # A key point missed twice is parked (quiz.grading): a question type still unseen is only
            # reached through the nurse's teach-back, which gives the parked key point one more question.
            if "topic ended with points for the nurse" not in checked:
                checked.add("topic ended with points for the nurse")
                axe_check(page, f"{name} topic ended with points for the nurse")
            for key_point in parked:
                live_server.teach_back(code, module.id, key_point)
            page.reload()
            page.wait_for_function("() => window.htmx !== undefined")
            expect(page.locator("#card .recheck-note")).to_be_visible()
            if "re-check question" not in checked:
                checked.add("re-check question")
                axe_check(page, f"{name} re-check question after the teach-back")
            continue
        if kind == "feedback":
            right = page.locator("#card .result-right").count() == 1
            nurse = page.locator("#card .notice-nurse").count() == 1
            state = "feedback asking to see the nurse" if nurse else f"feedback {'right' if right else 'wrong'}"
            if state not in checked:
                checked.add(state)
                axe_check(page, f"{name} {state}")
            if source_href is None:
                page.locator("#card details.sources > summary").click()
                axe_check(page, f"{name} {state} with its sources open")
                source_href = page.locator("#card figure.citation figcaption a").first.get_attribute("href")
            p.next()
            continue
        q = p.question()
        asked.append(q)
        kind_of_choice = "checkbox" if q.type == "multiple" else "radio"
        if q.type not in checked_types:
            checked_types.add(q.type)
            axe_check(page, f"{name} question {q.type}")
        if kind_of_choice not in empty_error_types:
            # Send nothing: the htmx 422 swap shows the error with the choices.
            empty_error_types.add(kind_of_choice)
            with page.expect_response(lambda r: r.request.method == "POST") as posted:
                p.submit()
            assert posted.value.status == 422
            expect(page.locator("#card #choice-error")).to_be_visible()
            page.wait_for_function("() => document.activeElement && document.activeElement.id === 'card-title'")
            # The error is what is announced (not "New question"), and the error is marked beside the choices.
            message = "Choose at least one answer." if q.type == "multiple" else "Choose an answer."
            expect(page.locator("#announcer")).to_have_text(f"Error: {message} {q.prompt}")
            assert page.locator("#card fieldset.choices").evaluate(
                "el => getComputedStyle(el).borderLeftStyle") == "solid"
            axe_check(page, f"{name} question {q.type} with no answer chosen")
        # Answer wrong while this key point still has an unasked question of a type not checked yet.
        go_wrong = q.wrong is not None and (
            any(o.type not in checked_types and o not in asked for o in module.questions_on(q.key_point))
            or not any(s.startswith("feedback wrong") for s in checked)
        )
        p.choose(q.wrong if go_wrong else q.correct)
        p.submit()
        p.expect_feedback(correct=not go_wrong)
    assert p.kind() == "complete"
    assert checked_types == wanted_types, f"question types not reached: {wanted_types - checked_types}"
    assert {"feedback right", "feedback wrong"} <= checked
    axe_check(page, f"{name} topic finished")

    page.get_by_role("link", name="All my topics").last.click()
    expect(p.module_item(module.id).get_by_role("link", name="Look again")).to_be_visible()
    axe_check(page, f"{name} topics one finished")

    page.get_by_role("link", name="See my results so far").click()
    expect(page.get_by_role("heading", level=1, name="Your results so far")).to_be_visible()
    expect(page.get_by_role("button", name="Print this page")).to_be_visible()
    axe_check(page, f"{name} summary")

    page.get_by_role("link", name="Stop for now").click()
    expect(page.get_by_role("heading", level=1, name="Stop for now?")).to_be_visible()
    axe_check(page, f"{name} stop for now")
    page.get_by_role("link", name="No, go back").click()
    expect(page.get_by_role("heading", level=1, name="Your results so far")).to_be_visible()

    page.goto(source_href)
    expect(page.locator("mark#cited")).to_be_visible()
    axe_check(page, f"{name} source with highlighted passage")
    page.locator("details.whole-text > summary").click()
    page.locator("details.unrelated > summary").first.click()
    axe_check(page, f"{name} source with the whole page open")
