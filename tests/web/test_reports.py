"""The administrator reports through the test client: figures after real answers, filters, the
question page, CSV downloads (parsed with the csv module, formula injection neutralised), who may open
them, and the `demo generate` / `stats rebuild` commands."""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from quiz.extensions import db
from quiz.models import Answer, Assignment, Module, StatItem
from quiz.patient.service import acknowledge, module_state, submit_answer
from quiz.csvexport import safe_cell as neutralise
from quiz.stats.contribution import expand
from quiz.stats.store import recompute, stored_tables, without_zero_rows
from tests.web.staff import sign_in


def answer_module(assignment_id: int, module_id: str, right: bool = True) -> None:
    """Answer a whole module: right every time, or the first pass wrong and every re-check right."""
    assignment = db.session.get(Assignment, assignment_id)
    module = db.session.get(Module, module_id)
    while True:
        state = module_state(assignment, module)
        if state.pending_feedback is not None:
            acknowledge(assignment, module, state.pending_feedback.id)
            continue
        question = state.next_question
        if question is None:
            return
        version = question.current_version
        first_pass = not state.progress.in_review
        wanted = [i for i, c in enumerate(version.choices) if c["correct"] == (right or not first_pass)]
        selected = wanted if (right or not first_pass or version.type == "multiple") else wanted[:1]
        submit_answer(assignment, module, state.next_step, question.id, version.id, selected)


@pytest.fixture
def answered(app, ward):
    """Bed 3 (Ward A) answers stopping-safely all right; Bed 4 (Ward B) misses every first try."""
    with app.app_context():
        answer_module(ward.assignment_id, "stopping-safely", right=True)
        answer_module(ward.other_assignment_id, "stopping-safely", right=False)
    return ward


def admin(app, ward):
    client = app.test_client()
    assert sign_in(client, ward.admin).status_code == 303
    return client


def read_csv(response) -> list[dict]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_dashboard_shows_the_figures(app, answered):
    page = admin(app, answered).get("/admin/reports/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "<svg" in text and "<table" in text and 'role="img"' in text
    modules = read_csv(admin(app, answered).get("/admin/reports/csv/modules"))
    row = next(r for r in modules if r["module"] == "How to stop safely")
    # Both patients started and finished; 4 key points each, right first time for one of them only.
    assert (row["assigned"], row["started"], row["completed"]) == ("2", "2", "2")
    assert float(row["first-try score"]) == 0.5 and float(row["mastery rate"]) == 1.0
    summary = {r["figure"]: r["value"] for r in read_csv(admin(app, answered).get("/admin/reports/csv/summary"))}
    assert summary["assignments made"] == "2" and summary["started"] == "2"
    # Bed 3's only other module (kidney health) is not done: one completed assignment, Bed 4.
    assert summary["completed"] == "1"
    assert summary["ready for discharge"] == "0"  # Bed 4 missed key points and has no teach-back


def test_unit_filter_and_invalid_dates(app, answered):
    client = admin(app, answered)
    ward_b = {r["figure"]: r["value"] for r in read_csv(
        client.get(f"/admin/reports/csv/summary?unit={answered.other_unit_id}"))}
    assert ward_b["assignments made"] == "1"
    bad = client.get("/admin/reports/?start=2026-05-01&end=2026-04-01")
    assert bad.status_code == 422
    assert "The end date must be on or after the start date." in bad.get_data(as_text=True)
    assert client.get("/admin/reports/?unit=99999").status_code == 422
    assert client.get("/admin/reports/csv/summary?start=nonsense").status_code == 422
    empty = read_csv(client.get("/admin/reports/csv/modules?start=2020-01-01&end=2020-01-31"))
    assert empty == []


def test_item_analysis_and_the_question_page(app, answered):
    client = admin(app, answered)
    text = client.get("/admin/reports/items").get_data(as_text=True)
    assert "stop-feel-better" in text and "Facility" in text
    items = read_csv(client.get("/admin/reports/csv/items"))
    assert items and {r["first tries"] for r in items} == {"2"}
    assert {float(r["facility"]) for r in items} == {0.5}
    question = items[0]["question"]
    page = client.get(f"/admin/reports/questions/{question}")
    assert page.status_code == 200
    assert "Version 1 (now)" in page.get_data(as_text=True)
    versions = read_csv(client.get(f"/admin/reports/questions/{question}/csv"))
    assert [r["version"] for r in versions] == ["1"]
    assert client.get("/admin/reports/questions/no-such-question").status_code == 404
    assert client.get("/admin/reports/csv/no-such-table").status_code == 404
    assert client.get("/admin/reports/items?flagged=y").status_code == 200


def test_csv_neutralises_formulas(app, answered):
    with app.app_context():
        db.session.get(Module, "stopping-safely").title = "=HYPERLINK(\"http://evil\")"
        db.session.commit()
    rows = read_csv(admin(app, answered).get("/admin/reports/csv/modules"))
    assert "'=HYPERLINK(\"http://evil\")" in [r["module"] for r in rows]
    for raw in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(raw) == "'" + raw
    assert neutralise(-0.25) == -0.25 and neutralise("Plain text") == "Plain text" and neutralise(None) == ""


@pytest.mark.parametrize("role", ["nurse", "other_nurse"])
def test_a_nurse_reaches_no_report_or_export(app, answered, role):
    client = app.test_client()
    assert sign_in(client, getattr(answered, role)).status_code == 303
    for path in ("/admin/reports/", "/admin/reports/items", "/admin/reports/questions/stop-feel-better",
                 "/admin/reports/questions/stop-feel-better/csv", "/admin/reports/csv/items",
                 "/admin/reports/csv/summary", "/admin/reports/csv/modules"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert response.mimetype == "text/html" and "Bed" not in response.get_data(as_text=True)
    assert "/admin/reports/" not in client.get("/nurse/", follow_redirects=True).get_data(as_text=True)


def test_the_admin_nav_links_to_the_reports(app, answered):
    assert "/admin/reports/" in admin(app, answered).get("/nurse/", follow_redirects=True).get_data(as_text=True)


# --- Commands -------------------------------------------------------------------------------------------

def test_stats_rebuild_restores_damaged_tables(app, answered, runner):
    with app.app_context():
        before = stored_tables()
        db.session.execute(db.delete(StatItem))
        db.session.commit()
    result = runner.invoke(args=["stats", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "Statistics rebuilt from 2 assignments" in result.output
    with app.app_context():
        assert stored_tables() == before


def test_demo_generate_is_deterministic_and_consistent(app, ctx, runner):
    app.config["DEMO_DATA_ALLOWED"] = True
    result = runner.invoke(args=["demo", "generate", "--patients", "12", "--seed", "5", "--until", "2026-11-30"])
    assert result.exit_code == 0, result.output
    assert "Generated 12 patients" in result.output
    answers = db.session.execute(db.select(Answer.question_id, Answer.selected, Answer.correct, Answer.created_at)
                                 .order_by(Answer.id)).all()
    assert len(answers) > 50
    assert any(not a.correct for a in answers) and any(a.correct for a in answers)
    expected, _ = recompute()
    assert stored_tables() == without_zero_rows(expand(expected))
    again = runner.invoke(args=["demo", "generate", "--patients", "12", "--seed", "5", "--until", "2026-11-30"])
    assert again.exit_code == 1 and "already there" in again.output
    # The same seed in another database gives the same rows.
    from tests.conftest import make_app
    from quiz.bank import load_bank, sync_bank
    from tests.conftest import QUESTIONS_DIR

    other = make_app(SQLALCHEMY_DATABASE_URI="sqlite://")
    other.config["DEMO_DATA_ALLOWED"] = True
    with other.app_context():
        db.create_all()
        sync_bank(load_bank(QUESTIONS_DIR))
        db.session.commit()
        assert other.test_cli_runner().invoke(args=["demo", "generate", "--patients", "12", "--seed", "5",
                                                    "--until", "2026-11-30"]).exit_code == 0
        same = db.session.execute(db.select(Answer.question_id, Answer.selected, Answer.correct, Answer.created_at)
                                  .order_by(Answer.id)).all()
        db.session.close()
        db.drop_all()
    assert same == answers


def test_demo_generate_is_refused_outside_development(runner):
    result = runner.invoke(args=["demo", "generate", "--patients", "3"])
    assert result.exit_code == 1
    assert "only created with QUIZ_ENV=development" in result.output
