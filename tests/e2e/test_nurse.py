"""The nurse workspace in a real Chromium: the whole loop (assign, watch live, re-teach, document,
ready, print), every nurse page with axe-core at three viewports, and the pages without JavaScript."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from quiz.extensions import db
from quiz.models import Module, StaffUser, Unit
from quiz.passwords import hash_password

pytestmark = pytest.mark.e2e

PASSWORD = "e2e nurse password"
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "tablet": {"viewport": {"width": 820, "height": 1180}, "is_mobile": True, "has_touch": True},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}


@dataclass(frozen=True)
class StaffWard:
    unit_id: int
    unit_name: str
    nurse: str


@pytest.fixture(scope="session")
def staff_ward(live_server) -> StaffWard:
    """A unit and a nurse in the live server's database; the list polls every second in these tests."""
    app = live_server.app
    app.config["NURSE_POLL_SECONDS"] = 1
    with app.app_context():
        unit = Unit(name="E2E ward")
        db.session.add(unit)
        db.session.add(StaffUser(username="e2e-nurse", display_name="E2E Nurse", role="nurse",
                                 password_hash=hash_password(PASSWORD), units=[unit]))
        db.session.commit()
        return StaffWard(unit.id, unit.name, "e2e-nurse")


def critical_ids(live_server) -> set[str]:
    with live_server.app.app_context():
        return set(db.session.execute(db.select(Module.id).where(Module.critical.is_(True))).scalars())


def sign_in(page: Page, ward: StaffWard) -> None:
    page.goto("/staff/sign-in")
    page.get_by_label("Username").fill(ward.nurse)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name=ward.unit_name)).to_be_visible()


def assign(page: Page, label: str, module_ids: list[str]) -> str:
    """From the unit's list (or its assign form): assign exactly these modules; returns the code shown."""
    if page.locator("#label").count() == 0:
        page.get_by_role("link", name="Assign modules to a patient").click()
    page.get_by_label("Patient label").fill(label)
    for box in page.locator('input[name="modules"]').all():
        box.set_checked(box.get_attribute("value") in module_ids)
    page.get_by_role("button", name="Assign and show the code").click()
    expect(page.get_by_role("heading", level=1, name=f"Code for {label}")).to_be_visible()
    code = page.locator("#access-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{5}-[A-Z0-9]{5}", code), code
    return code


def row(page: Page, label: str):
    return page.locator("#patient-list tbody tr").filter(has=page.get_by_role("link", name=label, exact=True))


def record_teach_back(page: Page, response: str = "Verbalizes understanding") -> None:
    form = page.locator("form.teach-back-form").first
    form.get_by_label("Patient", exact=True).check()
    form.get_by_label("Teach-back", exact=True).check()
    form.get_by_label(response, exact=True).check()
    form.get_by_role("button", name="Record teach-back").click()
    expect(page.get_by_text("Teach-back recorded.")).to_be_visible()


def pdf_pages(page: Page) -> int:
    """Pages of the A4 print; with E2E_SHOTS set, the PDF is saved there too."""
    pdf = page.pdf(format="A4")
    shots = os.environ.get("E2E_SHOTS")
    if shots:
        name = re.sub(r"[^a-z0-9]+", "-", page.url.split("/", 3)[-1].lower()).strip("-")
        Path(shots).mkdir(parents=True, exist_ok=True)
        (Path(shots) / f"{name}.pdf").write_bytes(pdf)
    return pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")


def test_the_whole_loop(new_context, live_server, staff_ward, patient, axe_check):
    """Nurse signs in and assigns two modules; a patient in another browser misses a critical question;
    the nurse's list changes without a reload; the nurse records teach-back; the patient is ready; the
    education record prints on one page."""
    critical = live_server.module_with_retry()
    assert critical.id in critical_ids(live_server)
    optional = next(m for m in live_server.modules.values() if m.id not in critical_ids(live_server))
    nurse_context = new_context(**VIEWPORTS["tablet"])
    nurse_context.set_default_timeout(10_000)
    nurse = nurse_context.new_page()
    sign_in(nurse, staff_ward)
    code = assign(nurse, "Bed 12, J.S.", [critical.id, optional.id])
    expect(nurse.get_by_role("img", name="QR code that opens the quiz link on a phone")).to_be_visible()
    nurse.get_by_role("link", name="Done: back to the list").click()
    expect(row(nurse, "Bed 12, J.S.")).to_contain_text("Not started")
    nurse.wait_for_function("() => window.htmx !== undefined")
    nurse.evaluate("() => { window.__still_here = true; }")

    patient_context = new_context(**VIEWPORTS["phone"])
    patient_context.set_default_timeout(10_000)
    p = patient(patient_context.new_page())
    p.start(code)
    p.open_module(critical.id)
    missed = p.answer(correct=False)

    # The nurse's list changes by itself: same document, no reload.
    expect(row(nurse, "Bed 12, J.S.")).to_contain_text("Needs re-teach", timeout=15_000)
    expect(row(nurse, "Bed 12, J.S.")).to_contain_text("1 key point to re-teach")
    assert nurse.evaluate("() => window.__still_here") is True

    p.next()
    p.finish()  # the missed key point comes back and is answered right: the module is mastered
    expect(row(nurse, "Bed 12, J.S.")).to_contain_text(f"{len(critical.key_points)} of", timeout=15_000)

    nurse.get_by_role("link", name="Bed 12, J.S.").click()
    expect(nurse.get_by_role("heading", level=2, name=re.compile("Not ready for discharge"))).to_be_visible()
    review = nurse.locator("article.key-point-review")
    expect(review).to_have_count(1)
    expect(review).to_contain_text(missed.key_point)
    expect(review).to_contain_text(missed.prompt)
    record_teach_back(nurse)
    expect(nurse.get_by_role("heading", level=2, name=re.compile("Ready for discharge"))).to_be_visible()
    axe_check(nurse, "tablet patient detail, ready")

    nurse.get_by_role("link", name="Education record").click()
    expect(nurse.get_by_role("heading", level=1, name="Patient education record")).to_be_visible()
    expect(nurse.locator("article.record")).to_contain_text("Ready.")
    expect(nurse.locator("article.record")).to_contain_text("verbalizes understanding")
    axe_check(nurse, "tablet education record")
    assert pdf_pages(nurse) == 1

    nurse.get_by_role("link", name="Bed 12, J.S.").click()
    nurse.get_by_role("link", name=f"{staff_ward.unit_name}").first.click()
    expect(row(nurse, "Bed 12, J.S.")).to_contain_text("Ready")
    nurse_context.close()
    patient_context.close()


@pytest.fixture(params=list(VIEWPORTS))
def screen(request, new_context):
    context = new_context(**VIEWPORTS[request.param])
    context.set_default_timeout(10_000)
    return request.param, context.new_page()


def test_axe_every_nurse_page(screen, live_server, staff_ward, patient, new_context, axe_check):
    name, page = screen
    module = live_server.module_with_retry()
    page.goto("/staff/sign-in")
    axe_check(page, f"{name} staff sign in")
    page.get_by_label("Username").fill(staff_ward.nurse)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#password-error")).to_contain_text("The username or password is not right")
    axe_check(page, f"{name} staff sign in refused")
    sign_in(page, staff_ward)
    axe_check(page, f"{name} patient list")

    page.get_by_role("link", name="Assign modules to a patient").click()
    for box in page.locator('input[name="modules"]').all():
        box.set_checked(False)
    page.get_by_role("button", name="Assign and show the code").click()
    expect(page.locator("#modules-error")).to_be_visible()
    axe_check(page, f"{name} assign form with errors")
    code = assign(page, f"Bed {name}", [module.id])
    axe_check(page, f"{name} code and QR")
    page.get_by_role("link", name="Print for the patient").click()
    axe_check(page, f"{name} print for the patient")
    assert pdf_pages(page) == 1

    other = new_context()
    p = patient(other.new_page())
    p.start(code)
    p.open_module(module.id)
    p.answer(correct=False)
    other.close()

    page.goto("/nurse/")
    page.get_by_role("link", name=f"Bed {name}", exact=True).click()
    expect(page.locator("article.key-point-review")).to_have_count(1)
    detail_url = page.url
    axe_check(page, f"{name} patient detail with a miss")
    record_teach_back(page, "Needs reinforcement")
    page.get_by_role("link", name="Correct this entry").click()
    expect(page.get_by_text("You are correcting the latest entry")).to_be_visible()
    axe_check(page, f"{name} teach-back correction")
    page.locator("form.teach-back-form").first.get_by_role("button", name="Save the correction").click()
    expect(page.locator("form.teach-back-form .error-message").first).to_be_visible()
    axe_check(page, f"{name} teach-back with errors")

    for path, heading in (("/modules", "Modules for"), ("/reissue", "Reissue the code"),
                          ("/revoke", "Revoke the code"), ("/record", "Patient education record")):
        response = page.goto(detail_url + path)
        assert response.status == 200, path
        expect(page.get_by_role("heading", level=1, name=re.compile(heading))).to_be_visible()
        axe_check(page, f"{name} {path.strip('/')} page")
    assert pdf_pages(page) == 1


@pytest.fixture
def nojs_page(new_context):
    context = new_context(java_script_enabled=False)
    context.set_default_timeout(10_000)
    return context.new_page()


def test_every_nurse_step_works_without_javascript(nojs_page, live_server, staff_ward, patient, new_context):
    page = nojs_page
    module = live_server.module_with_retry()
    sign_in(page, staff_ward)
    code = assign(page, "Bed nojs", [module.id])
    p = patient(new_context(java_script_enabled=False).new_page())
    p.start(code)
    p.open_module(module.id)
    p.answer(correct=False)
    p.next()
    p.finish()

    page.get_by_role("link", name="Done: back to the list").click()
    expect(row(page, "Bed nojs")).to_contain_text("Needs re-teach")
    page.get_by_role("link", name="Reload the list").click()
    expect(row(page, "Bed nojs")).to_contain_text("Needs re-teach")
    page.get_by_role("link", name="Bed nojs").click()
    record_teach_back(page)
    expect(page.get_by_role("heading", level=2, name=re.compile("Ready for discharge"))).to_be_visible()

    page.get_by_role("link", name="Reissue the code").click()
    page.get_by_role("button", name="Reissue the code").click()
    expect(page.get_by_text("A new code is ready.")).to_be_visible()
    assert page.locator("#access-code").inner_text().strip() != code
    page.get_by_role("link", name="Bed nojs").click()
    page.get_by_role("link", name="Revoke the code").click()
    page.get_by_role("button", name="Revoke the code").click()
    expect(page.get_by_text("The code is revoked")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.go_back()
    expect(page.get_by_role("heading", level=1, name="Staff sign in")).to_be_visible()


def test_a_busy_education_record_still_prints_on_one_page(page, live_server, staff_ward):
    """Three modules with every first try wrong, teach-back on each miss and one correction each:
    the record still fits one A4 page."""
    from quiz.assignments import create_assignment
    from quiz.models import Answer, Question, TeachBack

    app = live_server.app
    with app.app_context():
        unit = db.session.get(Unit, staff_ward.unit_id)
        nurse = db.session.execute(db.select(StaffUser).filter_by(username=staff_ward.nurse)).scalar_one()
        module_ids = sorted(live_server.modules, key=lambda m: -len(live_server.modules[m].key_points))[:3]
        assignment, _ = create_assignment("Bed busy", module_ids, 14, unit=unit)
        for module_id in module_ids:
            seen_points = set()
            step = 0
            for question in db.session.execute(db.select(Question).where(Question.module_id == module_id)
                                               .order_by(Question.position)).scalars():
                version = question.current_version
                if version.key_point in seen_points:
                    continue
                seen_points.add(version.key_point)
                wrong = next(i for i, c in enumerate(version.choices) if not c["correct"])
                db.session.add(Answer(assignment_id=assignment.id, module_id=module_id, step=step,
                                      question_id=question.id, question_version_id=version.id,
                                      selected=[wrong], correct=False))
                step += 1
                first = TeachBack(assignment_id=assignment.id, module_id=module_id, key_point=version.key_point,
                                  learner="family", method="explanation", response="needs_reinforcement",
                                  note="Daughter present; will repeat tomorrow", recorded_by=nurse)
                db.session.add(first)
                db.session.flush()
                db.session.add(TeachBack(assignment_id=assignment.id, module_id=module_id,
                                         key_point=version.key_point, learner="patient", method="teach_back",
                                         response="verbalizes", supersedes_id=first.id, recorded_by=nurse))
        db.session.commit()
        assignment_id = assignment.id
    sign_in(page, staff_ward)
    page.goto(f"/nurse/assignments/{assignment_id}/record")
    points = page.locator(".record-point").count()
    assert points >= 10, points
    assert pdf_pages(page) == 1, f"a record with {points} missed key points prints on more than one page"
