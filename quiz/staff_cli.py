"""Staff command line: `users create|list|disable|enable|set-role|reset-password`, `units create|rename|list`,
`audit tail`, `sessions purge`. Every change is audited (actor "cli").

Passwords are never taken from an argument (it would sit in the shell history and the process
list): they are read from a hidden prompt, twice, or from the `STAFF_PASSWORD` environment variable
for scripts. The rules themselves (and the audit events) are in `quiz.staff_accounts`, shared with the
admin pages.
"""
from __future__ import annotations

import os
from datetime import timedelta

import click
from flask import Flask
from flask.cli import AppGroup

from . import audit, sessions, staff_accounts
from .extensions import db
from .models import ROLES, StaffUser, Unit
from .staff_accounts import StaffRuleError

PASSWORD_ENV = "STAFF_PASSWORD"


def init_app(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(units)
    app.cli.add_command(audit_group)
    app.cli.add_command(sessions_group)


def _user(username: str) -> StaffUser:
    user = staff_accounts.find_user(username)
    if user is None:
        raise click.ClickException(f"No staff account named {username!r}.")
    return user


def _new_password() -> str:
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password")
    return password


def _apply(change, *args, **kwargs):
    """Run a rule of `quiz.staff_accounts`; a refusal is one line and exit status 1, nothing changed."""
    try:
        return change(*args, **kwargs)
    except StaffRuleError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None


@click.group(cls=AppGroup)
def users():
    """Staff accounts (nurses and admins)."""


@users.command("create")
@click.option("--username", required=True, help="Sign-in name (letters, digits, . _ -; case is ignored).")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--unit", "unit_names", multiple=True, help="Unit the account works on; repeat for more.")
@click.option("--name", "display_name", help="Name shown on records (default: the username).")
def users_create(username, role, unit_names, display_name):
    """Create a staff account. The password is read from a prompt (or STAFF_PASSWORD)."""
    # Refuse what can be refused before asking for a password (create_user checks all of it again).
    username = _apply(staff_accounts.clean_username, username)
    if staff_accounts.find_user(username) is not None:
        raise click.ClickException(f"A staff account named {username!r} already exists.")
    chosen = _apply(staff_accounts.find_units, unit_names)
    if role == "nurse" and not chosen:
        click.echo("Note: this nurse has no unit yet, so sees no patients (add --unit).")
    _apply(staff_accounts.create_user, username, role, chosen, _new_password(), display_name)
    db.session.commit()
    click.echo(f"Created {role} {username}" + (f" on {', '.join(u.name for u in chosen)}" if chosen else "") + ".")


@users.command("list")
def users_list():
    """List staff accounts."""
    rows = db.session.execute(db.select(StaffUser).order_by(StaffUser.username)).scalars().all()
    if not rows:
        click.echo("No staff accounts yet.")
        return
    click.echo(f"{'username':<20} {'role':<6} {'status':<9} {'last sign-in':<17} units")
    for user in rows:
        last = f"{user.last_sign_in_at:%Y-%m-%d %H:%M}" if user.last_sign_in_at else "never"
        click.echo(f"{user.username:<20} {user.role:<6} {'active' if user.active else 'disabled':<9} {last:<17} "
                   f"{', '.join(u.name for u in user.units) or '-'}")


@users.command("disable")
@click.argument("username")
def users_disable(username):
    """Disable an account and end its sessions at once (never the last active admin)."""
    user = _user(username)
    ended = _apply(staff_accounts.set_active, user, False)
    db.session.commit()
    click.echo(f"Disabled {user.username}; ended {ended} session(s).")


@users.command("enable")
@click.argument("username")
def users_enable(username):
    """Enable a disabled account."""
    user = _user(username)
    _apply(staff_accounts.set_active, user, True)
    db.session.commit()
    click.echo(f"Enabled {user.username}.")


@users.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES))
def users_set_role(username, role):
    """Change an account's role (never demotes the last active admin)."""
    user = _user(username)
    _apply(staff_accounts.update_user, user, role=role, units=list(user.units))
    db.session.commit()
    click.echo(f"{user.username} is now {role}.")


@users.command("reset-password")
@click.argument("username")
def users_reset_password(username):
    """Set a new password (prompt or STAFF_PASSWORD) and end the account's sessions."""
    user = _user(username)
    ended = _apply(staff_accounts.reset_password, user, _new_password())
    db.session.commit()
    click.echo(f"New password set for {user.username}; ended {ended} session(s).")


@click.group(cls=AppGroup)
def units():
    """Units (wards)."""


@units.command("create")
@click.argument("name")
def units_create(name):
    """Create a unit."""
    unit = _apply(staff_accounts.create_unit, name)
    db.session.commit()
    click.echo(f"Created unit {unit.name}.")


@units.command("rename")
@click.argument("name")
@click.argument("new_name")
def units_rename(name, new_name):
    """Rename a unit."""
    unit = _apply(staff_accounts.find_units, [name])[0]
    _apply(staff_accounts.rename_unit, unit, new_name)
    db.session.commit()
    click.echo(f"The unit is now called {unit.name}.")


@units.command("list")
def units_list():
    """List units and their staff."""
    for unit in db.session.execute(db.select(Unit).order_by(Unit.name)).scalars():
        staff = db.session.execute(
            db.select(StaffUser.username).where(StaffUser.units.contains(unit)).order_by(StaffUser.username)
        ).scalars().all()
        click.echo(f"{unit.name}: {', '.join(staff) or 'no staff'}")


@click.group("audit", cls=AppGroup)
def audit_group():
    """The audit log (read-only)."""


@audit_group.command("tail")
@click.option("-n", "--lines", "count", default=20, show_default=True, help="How many of the latest entries.")
def audit_tail(count):
    """Print the latest audit entries, oldest first."""
    events = audit.latest(max(1, count))
    if not events:
        click.echo("The audit log is empty.")
    for event in events:
        where = " ".join(part for part in (
            f"unit={event.unit_id}" if event.unit_id else "", f"patient={event.patient_id}" if event.patient_id else "",
            f"assignment={event.assignment_id}" if event.assignment_id else "") if part)
        detail = " ".join(f"{k}={v}" for k, v in (event.detail or {}).items())
        click.echo(f"{event.at:%Y-%m-%d %H:%M:%S} {event.action:<22} {event.actor_name or '-':<16} "
                   f"{event.address or '-':<15} {where} {detail}".rstrip())


@click.group("sessions", cls=AppGroup)
def sessions_group():
    """Signed-in browser sessions."""


@sessions_group.command("purge")
@click.option("--days", default=1, show_default=True, help="Keep ended sessions this many days.")
def sessions_purge(days):
    """Delete sessions that ended or ran out (run it daily, e.g. from cron)."""
    removed = sessions.purge(timedelta(days=days))
    db.session.commit()
    click.echo(f"Removed {removed} ended session(s).")
