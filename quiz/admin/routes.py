"""The administrator pages (`/admin/...`): the admin home, staff accounts, units, the audit log (with
its CSV export) and the question bank's status.

Access is decided in one place, `require_admin`: anyone not signed in as staff is sent to the sign-in
page, a signed-in nurse gets 403 on every admin URL, and every id in the URL (staff account, unit) is
resolved to its object or 404. The rules (last active admin, unique unit names, sessions ended on
disable and password reset, the audit events) live in `quiz.staff_accounts`, shared with the command
line; views only translate HTTP to calls. Forms post to real URLs and answer 303, or 422 with the
error next to its field.
"""
from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, request, session, url_for
from flask_login import current_user
from wtforms import SelectChoice

from .. import audit, bank_status, sessions, staff_accounts
from ..auth.routes import to_sign_in
from ..csvexport import csv_response
from ..extensions import db
from ..htmx import render_page_or_block
from ..models import StaffUser, Unit, staff_unit
from ..staff_accounts import StaffRuleError
from .forms import AuditFilterForm, ConfirmForm, StaffCreateForm, StaffEditForm, UnitForm

bp = Blueprint("admin", __name__, url_prefix="/admin")

AUDIT_PAGE_SIZE = 50
AUDIT_EXPORT_BATCH = 1000  # rows read at a time while an export streams
# Where a generated password waits, in the server-side session, for the one page that shows it.
SHOWN_ONCE = "admin_password_shown_once"


@bp.before_request
def require_admin():
    """The one access check of this blueprint (see the module docstring)."""
    if not current_user.is_authenticated:
        return to_sign_in("Please sign in as an administrator to see the admin pages.")
    if not current_user.is_admin:
        abort(403)
    args = request.view_args or {}
    if "user_id" in args:
        g.staff = db.session.get(StaffUser, args["user_id"])
        if g.staff is None:
            abort(404)
    if "unit_id" in args:
        g.unit = db.session.get(Unit, args["unit_id"])
        if g.unit is None:
            abort(404)
    return None


@bp.after_request
def no_store(response: Response) -> Response:
    # Staff lists, the audit log and shown-once passwords: never cached on a shared device.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.app_template_filter("audit_value")
def audit_value(value) -> str:
    """A value of an audit entry's detail as staff read it: lists joined, changes as "from → to"."""
    if isinstance(value, dict) and set(value) == {"from", "to"}:
        return f"{audit_value(value['from'])} → {audit_value(value['to'])}"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {audit_value(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(audit_value(v) for v in value) or "none"
    return "" if value is None else str(value)


DONE = 303


def _submit(form, fallback_field: str, change):
    """Validate `form`, then run `change()` (a call into `quiz.staff_accounts`) and commit. Returns
    (result, status): status 303 when it was done; else 200 (a GET) or 422, with a refused rule's
    message next to its field (or `fallback_field`) and nothing changed."""
    if not form.validate_on_submit():
        return None, 422 if request.method == "POST" else 200
    try:
        result = change()
    except StaffRuleError as error:
        db.session.rollback()
        field = getattr(form, error.field or fallback_field, None) or getattr(form, fallback_field)
        field.errors = [*field.errors, str(error)]
        return None, 422
    db.session.commit()
    return result, DONE


@bp.get("/")
def home():
    return render_page_or_block("admin/home.html", block="admin_content")


# --- staff --------------------------------------------------------------------------------------------

def _all_units() -> list[Unit]:
    return list(db.session.execute(db.select(Unit).order_by(Unit.name)).scalars())


def _units_from(ids: list[int], units: list[Unit]) -> list[Unit]:
    wanted = set(ids or [])
    return [unit for unit in units if unit.id in wanted]


@bp.get("/staff")
def staff_list():
    people = db.session.execute(
        db.select(StaffUser).order_by(StaffUser.active.desc(), StaffUser.role, StaffUser.username)
    ).scalars().all()
    return render_page_or_block("admin/staff_list.html", block="admin_content", people=people)


@bp.route("/staff/new", methods=["GET", "POST"])
def staff_create():
    units = _all_units()
    form = StaffCreateForm()
    form.units.choices = [SelectChoice(u.id, u.name) for u in units]
    if request.method == "GET":
        form.role.data = "nurse"
    password = staff_accounts.generate_password()
    user, status = _submit(form, "username", lambda: staff_accounts.create_user(
        form.username.data, form.role.data, _units_from(form.units.data, units), password, form.display_name.data))
    if status == DONE:
        session[SHOWN_ONCE] = {"user_id": user.id, "password": password, "why": "created"}
        return redirect(url_for("admin.password_show", user_id=user.id), code=303)
    return render_page_or_block("admin/staff_new.html", block="admin_content", status=status, form=form, units=units)


@bp.route("/staff/<int:user_id>", methods=["GET", "POST"])
def staff_show(user_id: int):
    """One account: its details, the role/units/name form, and the disable/enable/reset actions."""
    units = _all_units()
    form = StaffEditForm(obj=None if request.method == "POST" else g.staff)
    form.units.choices = [SelectChoice(u.id, u.name) for u in units]
    if request.method == "GET":
        form.units.data = [u.id for u in g.staff.units]
    changes, status = _submit(form, "role", lambda: staff_accounts.update_user(
        g.staff, role=form.role.data, units=_units_from(form.units.data, units),
        display_name=form.display_name.data or g.staff.username))
    if status == DONE:
        if g.staff.id == current_user.id and "role" in changes:
            # An admin who made themselves a nurse has just ended their own session; this browser's
            # cookie goes too, so the message below reaches the sign-in page.
            sessions.end()
            db.session.commit()
            flash("You are no longer an administrator. Please sign in again.", "info")
            return redirect(url_for("auth.sign_in"), code=303)
        flash(f"Saved the changes to {g.staff.username}." if changes else "Nothing changed.", "success")
        return redirect(url_for("admin.staff_show", user_id=user_id), code=303)
    return render_page_or_block("admin/staff_show.html", block="admin_content", status=status, form=form, units=units,
                                person=g.staff, confirm_form=ConfirmForm())


def _confirmed(action: str, change, done) -> Response:
    """The confirmation page of `action` (disable, enable, reset) on GET; on a valid POST, run
    `change()` (a call into `quiz.staff_accounts`), commit and answer `done(result)` (a 303). A refused
    rule is shown on the page with 422 and nothing changed."""
    form = ConfirmForm()
    error = None
    if form.validate_on_submit():
        try:
            result = change()
        except StaffRuleError as refused:
            db.session.rollback()
            error = str(refused)
        else:
            db.session.commit()
            return done(result)
    return render_page_or_block("admin/confirm.html", block="admin_content", status=422 if request.method == "POST" else 200,
                                form=form, person=g.staff, action=action, error=error)


def _back_to_account(message: str) -> Response:
    flash(message, "success")
    return redirect(url_for("admin.staff_show", user_id=g.staff.id), code=303)


@bp.route("/staff/<int:user_id>/disable", methods=["GET", "POST"])
def staff_disable(user_id: int):
    return _confirmed("disable", lambda: staff_accounts.set_active(g.staff, False, actor=current_user),
                      lambda ended: _back_to_account(f"Disabled {g.staff.username}; {ended} open session(s) ended. "
                                                     "The account can no longer sign in."))


@bp.post("/staff/<int:user_id>/enable")
def staff_enable(user_id: int):
    return _confirmed("enable", lambda: staff_accounts.set_active(g.staff, True),
                      lambda _: _back_to_account(f"Enabled {g.staff.username}: the account can sign in again."))


@bp.route("/staff/<int:user_id>/reset-password", methods=["GET", "POST"])
def password_reset(user_id: int):
    password = staff_accounts.generate_password()

    def show_it(_):
        session[SHOWN_ONCE] = {"user_id": g.staff.id, "password": password, "why": "reset"}
        return redirect(url_for("admin.password_show", user_id=user_id), code=303)

    return _confirmed("reset", lambda: staff_accounts.reset_password(g.staff, password), show_it)


@bp.get("/staff/<int:user_id>/password")
def password_show(user_id: int):
    """The new password, once: it is taken out of the session as it is shown."""
    waiting = session.get(SHOWN_ONCE)
    shown = None
    if isinstance(waiting, dict) and waiting.get("user_id") == user_id:
        shown = session.pop(SHOWN_ONCE)
    return render_page_or_block("admin/password.html", block="admin_content", person=g.staff, shown=shown)


# --- units --------------------------------------------------------------------------------------------

def _unit_rows():
    counts = dict(db.session.execute(
        db.select(staff_unit.c.unit_id, db.func.count()).group_by(staff_unit.c.unit_id)
    ).all())
    return [(unit, counts.get(unit.id, 0)) for unit in _all_units()]


@bp.route("/units", methods=["GET", "POST"])
def unit_list():
    form = UnitForm()
    unit, status = _submit(form, "name", lambda: staff_accounts.create_unit(form.name.data))
    if status == DONE:
        flash(f"Created the unit {unit.name}.", "success")
        return redirect(url_for("admin.unit_list"), code=303)
    return render_page_or_block("admin/units.html", block="admin_content", status=status, form=form, rows=_unit_rows())


@bp.route("/units/<int:unit_id>/rename", methods=["GET", "POST"])
def unit_rename(unit_id: int):
    form = UnitForm(obj=None if request.method == "POST" else g.unit)
    changed, status = _submit(form, "name", lambda: staff_accounts.rename_unit(g.unit, form.name.data))
    if status == DONE:
        flash(f"Renamed the unit to {g.unit.name}." if changed else "The name is unchanged.", "success")
        return redirect(url_for("admin.unit_list"), code=303)
    return render_page_or_block("admin/unit_rename.html", block="admin_content", status=status, form=form, unit=g.unit)


# --- the audit log ------------------------------------------------------------------------------------

def _audit_filters() -> tuple[AuditFilterForm, audit.AuditFilter | None]:
    """The filter form from the query string, and the filter it means (None when it is invalid)."""
    form = AuditFilterForm(request.args)
    form.action.choices = [SelectChoice("", "Any action")] + [SelectChoice(k, v) for k, v in audit.ACTIONS.items()]
    if not form.validate():
        return form, None
    zone = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])

    def instant(day, days_after=0):
        # A day is the hospital's day (DISPLAY_TIMEZONE), as the times on the page are shown.
        if day is None:
            return None
        return datetime.combine(day + timedelta(days=days_after), time.min, tzinfo=zone)

    return form, audit.AuditFilter(
        user=(form.user.data or "").strip(), patient=(form.patient.data or "").strip(), action=form.action.data or "",
        start=instant(form.date_from.data), end=instant(form.date_to.data, 1),
    )


def _query_args(form: AuditFilterForm) -> dict:
    return {name: request.args[name] for name in ("user", "patient", "action", "date_from", "date_to")
            if request.args.get(name)}


@bp.get("/audit")
def audit_list():
    form, filters = _audit_filters()
    page = max(1, request.args.get("page", 1, type=int) or 1)
    events, has_older = [], False
    if filters is not None:
        found = audit.search(filters, limit=AUDIT_PAGE_SIZE + 1, offset=(page - 1) * AUDIT_PAGE_SIZE)
        events, has_older = found[:AUDIT_PAGE_SIZE], len(found) > AUDIT_PAGE_SIZE
    args = _query_args(form)
    return render_page_or_block(
        "admin/audit.html", block="audit", status=200 if filters is not None else 422, form=form,
        events=events, page=page, has_older=has_older, args=args, actions=audit.ACTIONS,
        newer_url=url_for("admin.audit_list", **args, page=page - 1) if page > 1 else None,
        older_url=url_for("admin.audit_list", **args, page=page + 1) if has_older else None,
        csv_url=url_for("admin.audit_export", **args),
    )


@bp.get("/audit.csv")
def audit_export():
    form, filters = _audit_filters()
    if filters is None:
        return audit_list()
    total = audit.count(filters)
    export = audit.record("audit.export", detail={"filters": _query_args(form), "rows": total})
    db.session.flush()
    up_to = export.id  # the file holds the rows counted, not this export's own entry
    db.session.commit()
    rows = ((event.id, event.at.isoformat(timespec="seconds"), event.action, audit.ACTIONS.get(event.action, ""),
             event.actor_name, unit_name, event.patient_id, patient_label, event.assignment_id, event.address,
             json.dumps(event.detail or {}, ensure_ascii=False, sort_keys=True))
            for event, unit_name, patient_label in audit.iter_search(filters, AUDIT_EXPORT_BATCH, before=up_to))
    stamp = datetime.now(ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])).strftime("%Y%m%d-%H%M")
    return csv_response(f"audit-log-{stamp}.csv",
                        ["id", "time (UTC)", "action", "what", "staff", "unit", "patient id", "patient",
                         "assignment id", "address", "detail"], rows)


# --- the question bank --------------------------------------------------------------------------------

@bp.get("/bank")
def bank_show():
    check = bank_status.latest_check()
    loaded = bank_status.loaded_fingerprint()
    modules = bank_status.module_statuses()
    readability_by_module: dict[str, list[dict]] = {}
    if check is not None:
        for row in check.readability:
            readability_by_module.setdefault(row["module"], []).append(row)
    return render_page_or_block(
        "admin/bank.html", block="admin_content", check=check, loaded=loaded, modules=modules,
        readability_by_module=readability_by_module,
        live=[m for m in modules if not m.retired],
    )
