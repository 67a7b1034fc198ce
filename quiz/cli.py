"""Command-line interface: `flask --app wsgi questions check|load`, `assign`, `demo`."""
from __future__ import annotations

import os
import sys

import click
from flask import Flask, current_app, url_for
from flask.cli import AppGroup, with_appcontext

from .assignments import AssignmentError, create_assignment, find_assignment, format_code, ready_module_ids
from .bank import BankError, load_bank, sync_bank
from .extensions import db

DEMO_PATIENT = "Demo patient"
DEMO_CODE = "SAFE5678"


def init_app(app: Flask) -> None:
    app.cli.add_command(questions)
    app.cli.add_command(assign)
    app.cli.add_command(demo)


def _link(code: str) -> str:
    base = current_app.config["PUBLIC_BASE_URL"] or f"http://127.0.0.1:{os.environ.get('PORT', '5000')}"
    with current_app.test_request_context(base_url=base):
        return url_for("patient.start_link", code=format_code(code), _external=True)


def _echo_warnings(warnings) -> None:
    drafts = [w for w in warnings if w.message.startswith("draft:")]
    others = [w for w in warnings if not w.message.startswith("draft:")]
    if others:
        click.echo(f"{len(others)} warning(s):")
        for warning in others:
            click.echo(f"  - {warning}")
    if drafts:
        click.echo(f"{len(drafts)} draft question(s), not shown to patients until reviewed: "
                   + ", ".join(w.question_id for w in drafts))


def _load_or_exit(folder: str):
    try:
        return load_bank(folder)
    except BankError as error:
        click.echo(f"The question bank in {folder} has {len(error.problems)} problem(s):", err=True)
        for problem in error.problems:
            click.echo(f"  - {problem}", err=True)
        _echo_warnings(error.warnings)
        click.echo("Nothing was changed.", err=True)
        sys.exit(1)


def _readability_table(bank) -> None:
    click.echo("Readability (US school grade; warning above 6, error above 8):")
    click.echo(f"  {'module / question':<36} {'F-K':>5} {'Dale-Chall':>11} {'grade':>6}  status")
    for module in bank.modules:
        for key, label in [(module.id, module.id)] + [(q.id, "  " + q.id) for q in module.questions]:
            score = bank.readability[key]
            click.echo(f"  {label:<36} {score.flesch_kincaid:>5.1f} {score.dale_chall:>6.2f} ({score.dale_chall_grade:>2})"
                       f" {score.grade:>6.1f}  {score.level}")


@click.group(cls=AppGroup)
def questions():
    """Check or load the question bank."""


@questions.command("check")
@click.option("--dir", "folder", type=click.Path(file_okay=False), help="Bank folder (default: QUESTIONS_DIR).")
@click.option("--table/--no-table", default=True, help="Print the readability table.")
def questions_check(folder, table):
    """Validate every module file and citation; exit non-zero on any problem."""
    folder = folder or current_app.config["QUESTIONS_DIR"]
    bank = _load_or_exit(folder)
    if table:
        _readability_table(bank)
    _echo_warnings(bank.warnings)
    click.echo(f"Question bank OK: {folder}")
    for module in bank.modules:
        key_points = len({q.key_point for q in module.questions})
        flag = "critical" if module.critical else "optional"
        click.echo(
            f"  {module.id:<28} {len(module.questions):>3} questions  {key_points:>2} key points  "
            f"{sum(len(q.citations) for q in module.questions):>3} citations  ({flag})"
        )
    click.echo(
        f"{len(bank.modules)} modules, {len(bank.questions)} questions, "
        f"{bank.citation_count} citations verified in {len(bank.sources)} sources."
    )
    if bank.meta is not None:
        quotes = sum(len(sign.citations) for sign in bank.meta.get_help_now)
        click.echo(f"Medicine: {bank.meta.medicine}; {len(bank.meta.get_help_now)} get-help-now signs, "
                   f"{quotes} quotes verified (bank.yaml).")


@questions.command("load")
@click.option("--dir", "folder", type=click.Path(file_okay=False), help="Bank folder (default: QUESTIONS_DIR).")
def questions_load(folder):
    """Validate the bank, then store it in one transaction (new versions, retirements)."""
    folder = folder or current_app.config["QUESTIONS_DIR"]
    bank = _load_or_exit(folder)
    try:
        report = sync_bank(bank)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    if report.changed:
        click.echo(f"Loaded {len(bank.modules)} modules, {len(bank.questions)} questions:")
        for line in report.lines():
            click.echo(f"  {line}")
    else:
        click.echo(f"Question bank unchanged ({len(bank.modules)} modules, {len(bank.questions)} questions).")


@click.command()
@with_appcontext
@click.option("--patient", "patient_label", required=True, help="How staff recognise the patient (bed, initials).")
@click.option("--module", "module_ids", multiple=True, required=True, help="Module id; repeat for more.")
@click.option("--days", type=int, default=None, help="Days the code stays valid (default: ASSIGNMENT_VALID_DAYS).")
def assign(patient_label, module_ids, days):
    """Assign modules to a patient and print the access code and link."""
    days = days if days is not None else current_app.config["ASSIGNMENT_VALID_DAYS"]
    try:
        assignment, code = create_assignment(patient_label, list(module_ids), days)
        db.session.commit()
    except AssignmentError as error:
        db.session.rollback()
        raise click.UsageError(str(error)) from None
    click.echo(f"Assignment {assignment.id} for {assignment.patient_label}")
    click.echo(f"  modules:     {', '.join(module_ids)}")
    click.echo(f"  access code: {format_code(code)}")
    click.echo(f"  link:        {_link(code)}")
    click.echo(f"  valid until: {assignment.expires_at:%Y-%m-%d %H:%M} UTC")


@click.command()
@with_appcontext
def demo():
    """Create the demo assignment (development only; running it again changes nothing)."""
    if not current_app.config["DEMO_DATA_ALLOWED"]:
        raise click.ClickException("Demo data is only created with QUIZ_ENV=development.")
    assignment = find_assignment(DEMO_CODE)
    if assignment is None:
        module_ids = ready_module_ids()
        if not module_ids:
            raise click.ClickException("Load the question bank first: flask --app wsgi questions load")
        from .models import Assignment

        stale = db.session.execute(
            db.select(Assignment).where(Assignment.is_demo.is_(True))
        ).scalars().all()
        for old in stale:  # an expired demo assignment keeps its code hash; free the code for a new one
            old.code_hash = f"retired-demo-{old.id}"
            old.revoked_at = old.revoked_at or old.expires_at
        db.session.flush()
        assignment, _ = create_assignment(
            DEMO_PATIENT, module_ids, current_app.config["ASSIGNMENT_VALID_DAYS"],
            code=DEMO_CODE, is_demo=True,
        )
        db.session.commit()
        click.echo("Created the demo assignment.")
    click.echo(f"Demo patient: access code {format_code(DEMO_CODE)}")
    click.echo(f"              link {_link(DEMO_CODE)}")
