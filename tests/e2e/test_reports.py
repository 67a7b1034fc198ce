"""The administrator reports in a real Chromium: every report page (dashboard with charts and tables,
item analysis, a question page, a filter error) checked with axe-core at three viewports and in print,
on a server of its own filled with synthetic data (`demo generate`'s code), and a nurse turned away."""
from __future__ import annotations

import shutil
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from quiz.demo_data import generate
from quiz.extensions import db
from quiz.models import StaffUser, Unit
from quiz.passwords import hash_password
from tests.conftest import QUESTIONS_DIR
from tests.e2e.conftest import running_server

pytestmark = pytest.mark.e2e

PASSWORD = "e2e admin password"
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "tablet": {"viewport": {"width": 820, "height": 1180}, "is_mobile": True, "has_touch": True},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}


@pytest.fixture(scope="module")
def report_server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("e2e-reports")
    shutil.copytree(QUESTIONS_DIR, workdir / "questions")
    with running_server(workdir, workdir / "questions") as server:
        with server.app.app_context():
            generate(60, seed=11, until=date.today(), days=60)
            unit = db.session.execute(db.select(Unit).order_by(Unit.id)).scalars().first()
            db.session.add_all([
                StaffUser(username="e2e-admin", display_name="E2E Admin", role="admin",
                          password_hash=hash_password(PASSWORD)),
                StaffUser(username="e2e-report-nurse", display_name="E2E Nurse", role="nurse",
                          password_hash=hash_password(PASSWORD), units=[unit]),
            ])
            db.session.commit()
        yield server


def sign_in(page: Page, server, username: str) -> None:
    page.goto(server.url + "/staff/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


@pytest.fixture(params=list(VIEWPORTS))
def screen(request, new_context, report_server):
    context = new_context(**VIEWPORTS[request.param])
    context.set_default_timeout(10_000)
    return request.param, context.new_page(), report_server


def test_axe_every_report_page(screen, axe_check):
    name, page, server = screen
    sign_in(page, server, "e2e-admin")
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", level=1, name="Reports")).to_be_visible()
    expect(page.get_by_role("img", name="First-try score and mastery rate by module")).to_be_visible()
    expect(page.get_by_role("table", name="Modules")).to_be_visible()
    expect(page.get_by_role("link", name="Download the modules table (CSV)")).to_be_visible()
    axe_check(page, f"{name} reports dashboard")

    page.get_by_label("Module", exact=True).select_option(label="How to stop safely")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_label("Module", exact=True)).to_have_value("stopping-safely")
    axe_check(page, f"{name} reports dashboard filtered")

    page.get_by_label("From", exact=True).fill("2026-05-02")
    page.get_by_label("To", exact=True).fill("2026-05-01")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("The end date must be on or after the start date.")).to_be_visible()
    axe_check(page, f"{name} reports dashboard with a filter error")

    page.get_by_role("navigation", name="Reports").get_by_role("link", name="Item analysis").click()
    expect(page.get_by_role("heading", level=1, name="Item analysis")).to_be_visible()
    expect(page.locator(".item-table tbody tr").first).to_be_visible()
    axe_check(page, f"{name} item analysis")

    page.locator(".item-table tbody tr th a").first.click()
    expect(page.get_by_role("heading", level=2, name="Statistics, version by version")).to_be_visible()
    axe_check(page, f"{name} question report")

    if name == "desktop":
        page.emulate_media(media="print")
        page.goto(server.url + "/admin/reports/")
        expect(page.locator(".report-filters")).to_be_hidden()
        axe_check(page, "print reports dashboard")


def test_a_nurse_is_turned_away(new_context, report_server):
    page = new_context().new_page()
    sign_in(page, report_server, "e2e-report-nurse")
    expect(page.get_by_role("link", name="Reports")).to_have_count(0)
    response = page.goto(report_server.url + "/admin/reports/")
    assert response.status == 403
    expect(page.get_by_role("heading", level=1, name="For administrators only")).to_be_visible()
