"""The second pass, measured in a real browser: the Next button on the first screen of every feedback
card on a phone, no Markdown and at most two quotes, the printed sheet (one page, 12 pt or more), the
text-size control, Read aloud, axe-core at every text size, and no console errors or failed requests.

The figures are printed at the end of the run ("measured in the browser tests")."""
from __future__ import annotations

import re
import shutil
import statistics

import pytest
import yaml
from playwright.sync_api import Page, expect

from quiz.site import TEXT_SIZES

from .conftest import QUESTIONS_DIR, running_server, squash

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
TABLET = {"viewport": {"width": 820, "height": 1180}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
SCREENS = {"phone": PHONE, "tablet": TABLET, "desktop": DESKTOP}
PT = 96 / 72  # CSS pixels per point

MARKDOWN = re.compile(r"[*#]")
LONG_CONTACT = "Ward 7 (Neurology), Riverside General Hospital, telephone 020 7946 0000, day or night"


def open_context(new_context, **options):
    context = new_context(**options)
    context.set_default_timeout(10_000)
    return context


def visible_text(page: Page, open_details: bool = True) -> str:
    """The text a patient can read on the page, with every disclosure opened first."""
    if open_details:
        page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
    return page.evaluate("() => document.body.innerText")


def natural_bottom(page: Page, selector: str) -> float:
    """Where an element's bottom edge would sit in the page if it were not sticky."""
    return page.evaluate(
        """(selector) => { const el = document.querySelector(selector); const before = el.style.position;
             el.style.position = 'static'; const bottom = el.getBoundingClientRect().bottom + window.scrollY;
             el.style.position = before; return bottom; }""", selector)


def test_next_is_on_the_first_screen_of_every_feedback_card_on_a_phone(new_context, live_server, patient,
                                                                        report_figure):
    """Every topic, each key point missed once (the longest cards) and then answered right."""
    page = open_context(new_context, **PHONE).new_page()
    p = patient(page)
    p.start(live_server.new_assignment(list(live_server.modules)))
    height = PHONE["viewport"]["height"]
    cards = []
    for module in live_server.modules.values():
        page.goto("/quiz")
        p.open_module(module.id)
        page.wait_for_function("() => window.htmx !== undefined")
        missed: set[str] = set()
        for _ in range(4 * len(module.questions)):
            kind = p.kind()
            if kind == "complete":
                break
            if kind == "question":
                q = p.question()
                wrong = q.key_point not in missed and q.wrong is not None
                missed.add(q.key_point)
                p.choose(q.wrong if wrong else q.correct)
                p.submit()
                p.expect_feedback(correct=not wrong)
                continue
            page.evaluate("() => window.scrollTo(0, 0)")
            button = page.locator("#card form.next-form button")
            box = button.bounding_box()
            assert 0 <= box["y"] and box["y"] + box["height"] <= height, \
                f"{module.id}: Next is not on the first screen ({box})"
            # Sources on request: none visible until asked for, then at most two quotes.
            expect(page.locator("#card figure.citation").first).to_be_hidden()
            assert page.locator("#card figure.citation").count() <= 2
            text = visible_text(page)
            assert not MARKDOWN.search(text), f"Markdown characters on a card: {MARKDOWN.findall(text)}"
            cards.append({
                "module": module.id, "right": page.locator("#card .result-right").count() == 1,
                "bottom": box["y"] + box["height"], "natural": natural_bottom(page, "#card form.next-form"),
                "page": page.evaluate("() => document.documentElement.scrollHeight"),
            })
            p.next()
        assert p.kind() == "complete", f"{module.id} was not finished"
    assert cards and all(card["bottom"] <= height for card in cards)
    natural = [round(c["natural"]) for c in cards]
    pages = [c["page"] for c in cards]
    report_figure(
        f"Next button at 390x844: on the first screen on {len(cards)} of {len(cards)} feedback cards "
        f"({sum(not c['right'] for c in cards)} wrong, {sum(c['right'] for c in cards)} right; "
        f"bottom edge at {round(max(c['bottom'] for c in cards))} px at most). Where it would sit without "
        f"the sticky bar: {min(natural)}-{max(natural)} px (median {round(statistics.median(natural))}); "
        f"{sum(n <= height for n in natural)} of {len(cards)} cards fit the screen whole; "
        f"card pages {min(pages)}-{max(pages)} px tall")


def pdf_pages(pdf: bytes) -> int:
    return pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")


def smallest_print_font(page: Page) -> float:
    """The smallest font size (px) of any text a printed page shows (icons hidden from readers aside)."""
    page.emulate_media(media="print")
    size = page.evaluate("""() => Math.min(...[...document.querySelectorAll('body *')]
        .filter(el => el.offsetParent !== null && !el.closest('[aria-hidden="true"]')
                      && [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
        .map(el => parseFloat(getComputedStyle(el).fontSize)))""")
    page.emulate_media(media=None)
    return size


def print_fill(page: Page, paper: str) -> float:
    """How much of one sheet's printable height the content takes (the @page margins from the CSS)."""
    mm = 96 / 25.4
    width, height = {"A4": (210, 297), "Letter": (215.9, 279.4)}[paper]
    vertical, horizontal = page.evaluate("""() => {
        for (const sheet of document.styleSheets) for (const rule of sheet.cssRules)
          if (rule.media && rule.media.mediaText === 'print') for (const inner of rule.cssRules)
            if (inner instanceof CSSPageRule) return inner.style.margin.split(' ').map(parseFloat);
        return [0, 0]; }""")
    viewport = page.viewport_size
    page.emulate_media(media="print")
    page.set_viewport_size({"width": round((width - 2 * horizontal) * mm), "height": viewport["height"]})
    used = page.evaluate("() => document.querySelector('#card').getBoundingClientRect().bottom + window.scrollY")
    page.set_viewport_size(viewport)
    page.emulate_media(media=None)
    return used / ((height - 2 * vertical) * mm)


def print_sheet(page: Page, server, label: str, report_figure) -> None:
    page.goto(f"{server.url}/summary")
    page.emulate_media(media="print")
    text = squash(visible_text(page, open_details=False))
    page.emulate_media(media=None)
    assert text.startswith("What to remember about "), text[:80]
    assert len(server.modules) == page.locator(".take-home-module").count(), "not the assignment of every module"
    assert re.search(r"\bFor .+ Medicine .+ Date \d{1,2} [A-Z][a-z]+ \d{4}\b", text), text[:200]
    for part in ("When to get help now", "or get medical help right away if", "Questions about your medicine?"):
        assert part in text, part
    assert "Please show this screen" not in text and "How you did" not in text
    smallest = smallest_print_font(page)
    assert smallest >= 12 * PT - 0.01, f"printed text as small as {smallest / PT:.1f} pt"
    counts = {paper: pdf_pages(page.pdf(format=paper)) for paper in ("A4", "Letter")}
    assert counts == {"A4": 1, "Letter": 1}, f"{label}: the sheet prints on {counts} pages"
    report_figure(f"Printed sheet, {label}: {counts['A4']} page on A4, {counts['Letter']} on Letter; "
                  f"smallest text {smallest / PT:.1f} pt; the sheet fills {print_fill(page, 'A4'):.0%} of an "
                  f"A4 page and {print_fill(page, 'Letter'):.0%} of a Letter page")


def test_the_take_home_sheet_prints_on_one_page_at_12_pt(page, live_server, new_code, patient, report_figure):
    patient(page).start(new_code(list(live_server.modules)))
    print_sheet(page, live_server, f"all {len(live_server.modules)} modules", report_figure)
    live_server.app.config["HOSPITAL_CONTACT"] = LONG_CONTACT
    try:
        print_sheet(page, live_server, f"all {len(live_server.modules)} modules and a long hospital contact line",
                    report_figure)
        page.emulate_media(media="print")
        expect(page.locator(".contact")).to_contain_text(LONG_CONTACT)
    finally:
        live_server.app.config["HOSPITAL_CONTACT"] = ""


def split_largest_module(folder):
    """The bank with its largest module split in two by key point: one more module, as a bank that
    splits a topic would have."""
    files = {path: yaml.safe_load(path.read_text(encoding="utf-8")) for path in folder.glob("*.yaml")}
    modules = {path: data for path, data in files.items() if isinstance(data, dict) and "questions" in data}
    path = max(modules, key=lambda p: len({q["key_point"] for q in modules[p]["questions"]}))
    data = modules[path]
    points = list(dict.fromkeys(q["key_point"] for q in data["questions"]))
    later = set(points[len(points) // 2:])
    second = {"module": dict(data["module"], id=data["module"]["id"] + "-more",
                             title=data["module"]["title"] + ": more"),
              "questions": [q for q in data["questions"] if q["key_point"] in later]}
    data["questions"] = [q for q in data["questions"] if q["key_point"] not in later]
    for target, content in ((path, data), (folder / f"{second['module']['id']}.yaml", second)):
        target.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_the_sheet_still_fits_one_page_with_one_more_module(new_context, tmp_path, report_figure):
    questions = tmp_path / "questions"
    shutil.copytree(QUESTIONS_DIR, questions)
    split_largest_module(questions)
    with running_server(tmp_path, questions, HOSPITAL_CONTACT=LONG_CONTACT) as server:
        page = open_context(new_context).new_page()
        code = server.new_assignment(list(server.modules))
        page.goto(f"{server.url}/start/{code}")
        page.get_by_role("button", name="Start").click()
        expect(page.get_by_role("heading", level=1, name="Your topics")).to_be_visible()
        print_sheet(page, server, f"{len(server.modules)} modules (the largest split in two) and the long "
                    "contact line", report_figure)


def font_px(page: Page, selector: str) -> float:
    return page.evaluate(f"() => parseFloat(getComputedStyle(document.querySelector({selector!r})).fontSize)")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_text_size_changes_the_text_and_is_remembered(new_context, live_server, new_code, patient, javascript,
                                                      report_figure):
    context = open_context(new_context, java_script_enabled=javascript)
    page = context.new_page()
    p = patient(page)
    p.start(new_code([live_server.smallest_module().id]))
    p.open_module(live_server.smallest_module().id)
    sizes = {"standard": font_px(page, "#choice-help")}
    if javascript:
        page.wait_for_function("() => window.htmx !== undefined")
        page.evaluate("() => { window.__marker = 1; }")
    for size in list(TEXT_SIZES)[1:]:
        page.get_by_role("button", name=TEXT_SIZES[size]).click()
        expect(page.get_by_role("button", name=TEXT_SIZES[size])).to_have_attribute("aria-pressed", "true")
        expect(page.locator("html")).to_have_class(f"text-{size}")
        sizes[size] = font_px(page, "#choice-help")
    if javascript:
        assert page.evaluate("() => window.__marker") == 1, "the size changed in place, without a reload"
    expect(page).to_have_url(f"{live_server.url}/quiz/{live_server.smallest_module().id}")
    assert sizes["standard"] < sizes["large"] < sizes["largest"], sizes
    page.reload()
    assert font_px(page, "#choice-help") == sizes["largest"]
    other = context.new_page()  # the same device: another tab, another page
    other.goto("/")
    expect(other.get_by_role("button", name=TEXT_SIZES["largest"])).to_have_attribute("aria-pressed", "true")
    if javascript:
        report_figure("Text size: " + ", ".join(f"{name} {px:.1f} px" for name, px in sizes.items())
                      + " (hint text on a question card at 1280x720)")


SPEECH_STUB = """
  window.__spoken = []; window.__cancelled = 0;
  Object.defineProperty(window, 'speechSynthesis', { configurable: true, value: {
    speak(utterance) { window.__spoken.push(utterance.text); },
    cancel() { window.__cancelled += 1; },
  }});
"""


def test_read_aloud_speaks_the_card_with_the_browsers_own_voice(new_context, live_server, new_code, patient):
    context = open_context(new_context)
    context.add_init_script(SPEECH_STUB)
    page = context.new_page()
    p = patient(page)
    module = live_server.smallest_module()
    p.start(new_code([module.id]))
    p.open_module(module.id)
    q = p.question()
    button = page.locator("#card [data-read-aloud]")
    expect(button).to_be_visible()
    button.click()
    expect(button).to_have_accessible_name("Stop reading")
    spoken = page.evaluate("() => window.__spoken")
    assert spoken[0] == squash(q.prompt) and [squash(c["text"]) for c in q.choices] == spoken[2:]
    button.click()
    expect(button).to_have_accessible_name("Read aloud")
    assert page.evaluate("() => window.__cancelled") >= 1
    # A new card (htmx swap) has its own button, and never goes on reading the old one.
    p.answer(correct=True)
    expect(page.locator("#card [data-read-aloud]")).to_be_visible()
    page.locator("#card [data-read-aloud]").click()
    assert "That's right" in page.evaluate("() => window.__spoken.slice(-1)[0] || ''") or \
        any("That's right" in s for s in page.evaluate("() => window.__spoken"))


def test_read_aloud_is_hidden_where_the_browser_cannot_speak(new_context, live_server, new_code, patient):
    context = open_context(new_context)
    context.add_init_script("delete window.SpeechSynthesisUtterance;"
                            "Object.defineProperty(window, 'speechSynthesis', {value: undefined});")
    page = context.new_page()
    p = patient(page)
    module = live_server.smallest_module()
    p.start(new_code([module.id]))
    p.open_module(module.id)
    expect(page.locator("#card [data-read-aloud]")).to_be_hidden()


@pytest.mark.parametrize("screen", list(SCREENS))
def test_axe_at_every_text_size(new_context, live_server, new_code, patient, axe_check, screen):
    """The larger text sizes on the pages a patient spends time on (the standard size is covered state
    by state in test_accessibility.py)."""
    page = open_context(new_context, **SCREENS[screen]).new_page()
    p = patient(page)
    module = live_server.smallest_module()
    p.start(new_code([module.id]))
    for size in list(TEXT_SIZES)[1:]:
        page.goto("/quiz")
        page.get_by_role("button", name=TEXT_SIZES[size]).click()
        expect(page.locator("html")).to_have_class(f"text-{size}")
        axe_check(page, f"{screen} {size} text topics")
        p.open_module(module.id)
        if p.kind() == "question":
            axe_check(page, f"{screen} {size} text question")
            p.answer(correct=False)
        page.locator("#card details.sources > summary").click()
        axe_check(page, f"{screen} {size} text feedback")
        page.evaluate("() => window.scrollTo(0, 0)")
        box = page.locator("#card form.next-form button").bounding_box()
        assert box["y"] + box["height"] <= SCREENS[screen]["viewport"]["height"], f"{size}: Next off screen"
        href = page.locator("#card figure.citation figcaption a").first.get_attribute("href")
        p.next()
        page.goto("/summary")
        axe_check(page, f"{screen} {size} text results")
        page.goto(href)
        page.locator("details.whole-text > summary").click()
        axe_check(page, f"{screen} {size} text source")


def test_no_console_errors_or_failed_requests(new_context, live_server, new_code, patient):
    """What Lighthouse's best-practices audit looks for, on a patient's whole path: errors in the
    console (a missing /favicon.ico is one), failed requests, CSP violations, script errors."""
    context = open_context(new_context, **DESKTOP)
    context.add_init_script("document.addEventListener('securitypolicyviolation', e => "
                            "console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI))")
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"script error: {e}"))
    # A request the browser cancels itself (the icon still loading when the patient moves on) is not a
    # failure; every answer the server gives is checked by status below.
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} {r.failure}")
            if r.failure != "net::ERR_ABORTED" else None)
    page.on("response", lambda r: problems.append(f"{r.status}: {r.url}") if r.status >= 400 else None)
    p = patient(page)
    module = live_server.smallest_module()
    code = new_code([module.id])
    page.goto("/")
    icon = page.evaluate("async () => (await fetch('/favicon.ico')).status")
    assert icon == 200
    p.start(code)
    p.open_module(module.id)
    page.wait_for_function("() => window.htmx !== undefined")
    p.answer(correct=False)
    page.locator("#card details.sources > summary").click()
    page.locator("#card figure.citation figcaption a").first.click()
    page.get_by_role("link", name="Back to my question").click()
    p.finish()
    page.get_by_role("link", name="See my results").click()
    page.get_by_role("button", name="Large text").click()
    expect(page.locator("html")).to_have_class("text-large")
    page.goto("/manifest.webmanifest")
    for icon in page.evaluate("() => JSON.parse(document.body.innerText).icons.map(i => i.src)"):
        assert page.request.get(f"{live_server.url}{icon}").status == 200, icon
    page.goto("/summary")
    p.stop_for_now()
    assert not MARKDOWN.search(visible_text(page))
    assert problems == []
