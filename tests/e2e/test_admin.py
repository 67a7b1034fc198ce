"""The admin pages in a real Chromium: every page checked with axe-core (and for sideways scrolling)
at phone, tablet and desktop sizes, forms with errors included; the htmx audit filter; and the same
steps without JavaScript."""
from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import Page, expect

from quiz import audit, bank_status
from quiz.bank import load_bank
from quiz.extensions import db
from quiz.models import StaffUser, Unit
from quiz.passwords import hash_password
from tests.e2e.test_nurse import screen  # noqa: F401  (the phone, tablet and desktop pages fixture)

pytestmark = pytest.mark.e2e

PASSWORD = "e2e admin password"
@pytest.fixture(scope="session")
def admin_name(live_server) -> str:
    """An admin, a unit with a long name, audit entries (one with a long detail) and a recorded check."""
    app = live_server.app
    with app.app_context():
        unit = Unit(name="E2E admin ward, neurology and spinal rehabilitation (north wing)")
        db.session.add(unit)
        db.session.add(StaffUser(username="e2e-admin", display_name="E2E Admin", role="admin",
                                 password_hash=hash_password(PASSWORD), units=[]))
        for i in range(3):
            audit.record("staff.sign_in_failed", actor=None, actor_name="someone-typing-a-very-long-username-here",
                         detail={"reason": "wrong username or password", "n": i})
        db.session.commit()
        bank_status.record_check("check", app.config["QUESTIONS_DIR"], bank=load_bank(app.config["QUESTIONS_DIR"]))
    return "e2e-admin"


def sign_in(page: Page, username: str) -> None:
    page.goto("/staff/sign-in?next=/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="Admin")).to_be_visible()


def test_axe_every_admin_page(screen, admin_name, axe_check):
    name, page = screen
    sign_in(page, admin_name)
    expect(page.get_by_role("link", name="Admin", exact=True)).to_be_visible()
    axe_check(page, f"{name} admin home")

    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Staff").click()
    expect(page.get_by_role("heading", level=1, name="Staff")).to_be_visible()
    axe_check(page, f"{name} staff list")
    page.get_by_role("link", name="Create a staff account").click()
    page.get_by_role("button", name="Create the account").click()
    expect(page.locator("#username-error")).to_contain_text("Enter a username")
    axe_check(page, f"{name} create staff with errors")
    page.get_by_label("Username").fill(f"e2e-{name}")
    page.locator("#staff-role-nurse").check()
    page.get_by_role("button", name="Create the account").click()
    expect(page.get_by_role("heading", level=1, name=f"Account created: e2e-{name}")).to_be_visible()
    axe_check(page, f"{name} password shown once")

    page.get_by_role("link", name=f"Back to e2e-{name}").click()
    expect(page.get_by_role("heading", level=1, name=f"e2e-{name}")).to_be_visible()
    axe_check(page, f"{name} staff account")
    page.get_by_role("link", name="Reset the password").click()
    axe_check(page, f"{name} reset password confirmation")
    page.get_by_role("link", name="Cancel").click()
    page.get_by_role("link", name="Disable the account").click()
    axe_check(page, f"{name} disable confirmation")
    page.get_by_role("button", name="Disable the account").click()
    expect(page.get_by_text(f"Disabled e2e-{name}")).to_be_visible()
    axe_check(page, f"{name} disabled account")

    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Units").click()
    page.get_by_label("Unit name").fill("E2E admin ward, neurology and spinal rehabilitation (north wing)")
    page.get_by_role("button", name="Create the unit").click()
    expect(page.locator("#name-error")).to_contain_text("already exists")
    axe_check(page, f"{name} units with an error")
    page.get_by_role("link", name="Rename E2E admin ward").click()
    axe_check(page, f"{name} rename unit")

    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Audit log").click()
    expect(page.locator("#audit-results tbody tr").first).to_be_visible()
    axe_check(page, f"{name} audit log")
    page.get_by_label("From (date)").fill("2026-12-05")
    page.get_by_label("To (date, included)").fill("2026-12-01")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#date_to-error")).to_contain_text("before the start date")
    axe_check(page, f"{name} audit log with a filter error")

    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Question bank").click()
    expect(page.get_by_role("heading", level=2, name="Readability")).to_be_visible()
    page.locator("details.readability-module summary").first.click()  # a reader opens one ...
    page.locator("details.readability-module").evaluate_all("all => all.forEach(d => d.open = true)")  # ... or all
    expect(page.locator("table.readability").first).to_be_visible()
    axe_check(page, f"{name} question bank, readability tables open")


def test_the_audit_filter_swaps_in_place_and_updates_the_address(new_context, admin_name):
    page = new_context().new_page()
    sign_in(page, admin_name)
    page.goto("/admin/audit")
    page.locator("#audit-area").evaluate("el => el.dataset.marker = 'old'")
    page.locator("h1").evaluate("el => el.dataset.marker = 'kept'")
    page.get_by_label("Staff username").fill("someone-typing-a-very-long-username-here")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"user=someone-typing"))
    expect(page.locator("#audit-results tbody tr")).to_have_count(3)
    expect(page.locator("#audit-area[data-marker]")).to_have_count(0)  # swapped in place
    expect(page.locator("h1[data-marker]")).to_have_count(1)  # not a page load
    expect(page.get_by_label("Staff username")).to_have_value("someone-typing-a-very-long-username-here")


def test_admin_steps_work_without_javascript(new_context, admin_name, live_server):
    page = new_context(java_script_enabled=False).new_page()
    sign_in(page, admin_name)
    page.goto("/admin/units")
    page.get_by_label("Unit name").fill("E2E no-JS ward")
    page.get_by_role("button", name="Create the unit").click()
    expect(page.get_by_text("Created the unit E2E no-JS ward.")).to_be_visible()
    page.goto("/admin/audit")
    page.get_by_label("Action").select_option("unit.create")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"action=unit\.create"))
    expect(page.locator("#audit-results tbody tr").first).to_contain_text("E2E no-JS ward")
    # The export link, through the real server (the body streams after the request's context ended).
    download = page.request.get(page.get_by_role("link", name="Download these entries (CSV)").get_attribute("href"))
    assert download.status == 200 and download.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(download.text(), newline="")))
    assert rows[0][:3] == ["id", "time (UTC)", "action"] and len(rows) >= 2
    assert {row[2] for row in rows[1:]} == {"unit.create"}

