"""Command-line interface: `flask --app wsgi questions check|load`, `assign`, `demo` and
`demo generate` (staff, units, audit and sessions commands are in `quiz.staff_cli`, `stats rebuild` in
`quiz.stats.cli`)."""
from __future__ import annotations

import os
import sys

import click
from flask import Flask, current_app, url_for
from flask.cli import AppGroup, with_appcontext

from . import bank_status
from .assignments import AssignmentError, create_assignment, find_assignment, format_code, ready_module_ids
from .bank import BankError, load_bank, sync_bank
from .bank.gates import GIVEAWAY_SHARE_LIMIT
from .extensions import db

DEMO_PATIENT = "Demo patient"
DEMO_CODE = "CHECK34779"
DEMO_UNIT = "Demo ward"
# (username, role, password): development only, printed by `make run`.
DEMO_STAFF = (("nurse", "nurse", "teach-back-demo"), ("admin", "admin", "oversight-demo"))


def init_app(app: Flask) -> None:
    from . import staff_cli
    from .stats.cli import stats

    app.cli.add_command(questions)
    app.cli.add_command(assign)
    app.cli.add_command(demo)
    app.cli.add_command(stats)
    staff_cli.init_app(app)


def _external(endpoint: str, **values) -> str:
    base = current_app.config["PUBLIC_BASE_URL"] or f"http://127.0.0.1:{os.environ.get('PORT', '5000')}"
    with current_app.test_request_context(base_url=base):
        return url_for(endpoint, **values, _external=True)


def _link(code: str) -> str:
    return _external("patient.start_link", code=format_code(code))


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


def _load_or_exit(folder: str, command: str):
    """The bank in `folder`, or exit 1 listing its problems. A failed run is recorded for the admin's
    bank status page like a passing one (`quiz.bank_status`)."""
    try:
        return load_bank(folder)
    except BankError as error:
        click.echo(f"The question bank in {folder} has {len(error.problems)} problem(s):", err=True)
        for problem in error.problems:
            click.echo(f"  - {problem}", err=True)
        _echo_warnings(error.warnings)
        click.echo("Nothing was changed.", err=True)
        _record(command, folder, problems=error.problems, warnings=error.warnings)
        sys.exit(1)


def _record(command: str, folder: str, **result) -> None:
    not_recorded = bank_status.record_check(command, folder, **result)
    if not_recorded:
        click.echo(f"(This result was not recorded for the admin pages: {not_recorded}.)", err=True)


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
    bank = _load_or_exit(folder, "check")
    if table:
        _readability_table(bank)
    _echo_warnings(bank.warnings)
    click.echo(f"Question bank OK: {folder}")
    click.echo("  (test-wise: choice questions whose right choice is the only one naming a doctor, nurse,\n"
               f"   pharmacist or help; more than {round(100 * GIVEAWAY_SHARE_LIMIT)}% of a module's is an error)")
    for module in bank.modules:
        key_points = len({q.key_point for q in module.questions})
        flag = "critical" if module.critical else "optional"
        click.echo(
            f"  {module.id:<28} {len(module.questions):>3} questions  {key_points:>2} key points  "
            f"{sum(len(q.citations) for q in module.questions):>3} citations  "
            f"test-wise {str(bank.test_wiseness[module.id]):<10} ({flag})"
        )
    click.echo(
        f"{len(bank.modules)} modules, {len(bank.questions)} questions, "
        f"{bank.citation_count} citations verified in {len(bank.sources)} sources."
    )
    if bank.meta is not None:
        quotes = sum(len(sign.citations) for sign in bank.meta.get_help_now)
        click.echo(f"Medicine: {bank.meta.medicine}; {len(bank.meta.get_help_now)} get-help-now signs, "
                   f"{quotes} quotes verified (bank.yaml).")
    _record("check", folder, bank=bank)


@questions.command("load")
@click.option("--dir", "folder", type=click.Path(file_okay=False), help="Bank folder (default: QUESTIONS_DIR).")
def questions_load(folder):
    """Validate the bank, then store it in one transaction (new versions, retirements)."""
    folder = folder or current_app.config["QUESTIONS_DIR"]
    bank = _load_or_exit(folder, "load")
    try:
        report = sync_bank(bank)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    _record("load", folder, bank=bank)
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
@click.option("--unit", "unit_name", help="The patient's unit (default: the 'Unassigned' unit only admins see).")
def assign(patient_label, module_ids, days, unit_name):
    """Assign modules to a patient and print the access code and link."""
    from . import audit
    from .models import Unit

    days = days if days is not None else current_app.config["ASSIGNMENT_VALID_DAYS"]
    unit = None
    if unit_name:
        unit = db.session.execute(db.select(Unit).where(Unit.name == unit_name)).scalar_one_or_none()
        if unit is None:
            raise click.UsageError(f"no unit named {unit_name!r}")
    try:
        assignment, code = create_assignment(patient_label, list(module_ids), days, unit=unit)
        audit.record("assignment.create", actor=None, assignment=assignment,
                     detail={"modules": list(module_ids), "valid_days": days})
        db.session.commit()
    except AssignmentError as error:
        db.session.rollback()
        raise click.UsageError(str(error)) from None
    click.echo(f"Assignment {assignment.id} for {assignment.patient_label}")
    click.echo(f"  modules:     {', '.join(module_ids)}")
    click.echo(f"  access code: {format_code(code)}")
    click.echo(f"  link:        {_link(code)}")
    click.echo(f"  valid until: {assignment.expires_at:%Y-%m-%d %H:%M} UTC")


def _demo_staff() -> None:
    """The demo unit, nurse and admin; their passwords are put back if someone changed them."""
    from .models import StaffUser, Unit
    from .passwords import hash_password, verify

    unit = db.session.execute(db.select(Unit).where(Unit.name == DEMO_UNIT)).scalar_one_or_none()
    if unit is None:
        unit = Unit(name=DEMO_UNIT)
        db.session.add(unit)
        click.echo(f"Created the demo unit {DEMO_UNIT}.")
    for username, role, password in DEMO_STAFF:
        user = db.session.execute(db.select(StaffUser).where(StaffUser.username == username)).scalar_one_or_none()
        if user is None:
            user = StaffUser(username=username, display_name=f"Demo {role}", role=role,
                             password_hash=hash_password(password), units=[unit])
            db.session.add(user)
            click.echo(f"Created the demo {role}.")
        elif not user.active or not verify(user.password_hash, password) or unit not in user.units:
            user.active = True
            user.password_hash = hash_password(password)
            if unit not in user.units:
                user.units.append(unit)
    db.session.flush()


def _demo_allowed() -> None:
    if not current_app.config["DEMO_DATA_ALLOWED"]:
        raise click.ClickException("Demo data is only created with QUIZ_ENV=development.")


@click.group(cls=AppGroup, invoke_without_command=True)
@click.pass_context
def demo(ctx):
    """Create the demo unit, staff and assignment (development only; running it again changes nothing).
    `demo generate` adds synthetic patients for the reports."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(demo_basics)


@demo.command("generate")
@click.option("--patients", type=click.IntRange(min=1), required=True, help="How many synthetic patients.")
@click.option("--seed", type=int, default=1, show_default=True, help="The same seed gives the same data.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="The last day assignments are made (default: today, UTC).")
@click.option("--days", type=click.IntRange(min=1), default=180, show_default=True,
              help="How many days the assignments are spread over.")
def demo_generate(patients, seed, until, days):
    """Add synthetic units, nurses, patients, answers and teach-back entries (development only)."""
    import time

    from .demo_data import DemoDataError, generate

    _demo_allowed()
    started = time.perf_counter()
    try:
        made = generate(patients, seed=seed, until=until.date() if until else None, days=days)
        db.session.commit()
    except DemoDataError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    except Exception:
        db.session.rollback()
        raise
    click.echo(f"Generated {made.patients} patients, {made.answers} answers and {made.teach_back} "
               f"teach-back entries in {time.perf_counter() - started:.1f} s (seed {seed}).")


@with_appcontext
def demo_basics():
    from .models import Unit

    _demo_allowed()
    _demo_staff()
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
        unit = db.session.execute(db.select(Unit).where(Unit.name == DEMO_UNIT)).scalar_one()
        assignment, _ = create_assignment(
            DEMO_PATIENT, module_ids, current_app.config["ASSIGNMENT_VALID_DAYS"],
            unit=unit, code=DEMO_CODE, is_demo=True,
        )
        click.echo("Created the demo assignment.")
    db.session.commit()
    click.echo(f"Demo patient: access code {format_code(DEMO_CODE)}")
    click.echo(f"              link {_link(DEMO_CODE)}")
    sign_in = _external("auth.sign_in")
    for username, role, password in DEMO_STAFF:
        click.echo(f"Demo {role + ':':<7} username {username}, password {password}  ({sign_in})")
