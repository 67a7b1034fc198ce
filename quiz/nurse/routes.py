"""The nurse workspace (`/nurse/...`): units, the live patient list, assigning modules, the code
sheet, changing an assignment, the re-teaching detail, teach-back entries and the education record.

Access is decided in one place, `require_staff`: a signed-in, active nurse or admin, and every id in
the URL (unit, assignment) resolved to an object the user may see, or 404 (a nurse who guesses
another unit's id learns nothing, not even that it exists). Views only translate HTTP to calls.
Every form posts to a real URL and answers 303 (or 422 with the errors next to the fields): the pages
work without JavaScript, and htmx only adds the live list's polling.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import segno
from flask import (
    Blueprint, Response, abort, current_app, flash, g, redirect, request, url_for,
)
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from .. import audit, sessions
from ..assignments import (
    AssignmentError, code_for, create_assignment, format_code, ready_module_ids, reissue_code, revoke, set_expiry,
    set_modules,
)
from ..auth.routes import to_sign_in
from ..extensions import db
from ..htmx import is_htmx, render_page_or_block
from ..patient.service import bank_meta
from ..models import LEARNERS, METHODS, RESPONSES, ROLES, Answer, Assignment, AssignmentModule, Module, Patient, Unit, utcnow
from .forms import AssignForm, ConfirmForm, ExpiryForm, ModulesForm, TeachBackForm
from .service import (
    TeachBackError, assignment_detail, code_state, list_version, record_teach_back, summarize,
    unit_assignments, visible_units,
)

bp = Blueprint("nurse", __name__, url_prefix="/nurse")


@bp.before_request
def require_staff():
    """The one access check of this blueprint (see the module docstring)."""
    if not current_user.is_authenticated or current_user.role not in ROLES:
        return to_sign_in("Please sign in to see the nurse pages.")
    args = request.view_args or {}
    g.unit = None
    g.case = None
    if "assignment_id" in args:
        g.case = db.session.execute(
            db.select(Assignment).where(Assignment.id == args["assignment_id"])
            .options(selectinload(Assignment.patient).selectinload(Patient.unit),
                     selectinload(Assignment.modules).selectinload(AssignmentModule.module))
        ).scalar_one_or_none()
        if g.case is None or not current_user.sees_unit(g.case.patient.unit_id):
            abort(404)
        g.unit = g.case.patient.unit
    if "unit_id" in args:
        g.unit = db.session.get(Unit, args["unit_id"])
        if g.unit is None or not current_user.sees_unit(g.unit.id):
            abort(404)
    return None


@bp.app_template_filter("staff_time")
def staff_time(value: datetime | None, pattern: str = "%d %b, %H:%M") -> str:
    """A timestamp in the hospital's time zone (`DISPLAY_TIMEZONE`), as staff read it."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])).strftime(pattern)


@bp.after_request
def no_store(response: Response) -> Response:
    # Patient data on shared devices: never cached, so the back button after signing out shows nothing.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
def home():
    units = visible_units(current_user)
    if len(units) == 1:
        return redirect(url_for("nurse.unit_show", unit_id=units[0].id))
    return render_page_or_block("nurse/home.html", block="content", units=units)


# --- the live list ----------------------------------------------------------------------------------

@bp.get("/units/<int:unit_id>")
def unit_show(unit_id: int):
    """The unit's patients. htmx polls this URL with the marker it has (`v`): 204 when nothing changed
    (one cheap query), otherwise the list block alone. Polling is not activity: it never keeps a
    staff session alive."""
    version = list_version(unit_id)
    if is_htmx() and request.args.get("v"):
        sessions.mark_passive()
        if request.args["v"] == version:
            return Response(status=204)
    live, ended = unit_assignments(g.unit)
    everyone = summarize(live + ended)
    summaries, ended_summaries = everyone[:len(live)], everyone[len(live):]
    return render_page_or_block(
        "nurse/unit.html", block="patient_list", unit=g.unit, summaries=summaries,
        counts=Counter(s.readiness.status for s in summaries), ended=ended_summaries, version=version,
        poll_seconds=current_app.config["NURSE_POLL_SECONDS"], units=visible_units(current_user),
    )


# --- assigning --------------------------------------------------------------------------------------

def _module_choices() -> list[Module]:
    ready = ready_module_ids()
    modules = {m.id: m for m in db.session.execute(db.select(Module).where(Module.id.in_(ready))).scalars()}
    return [modules[m] for m in ready]


@bp.route("/units/<int:unit_id>/assign", methods=["GET", "POST"])
def assignment_create(unit_id: int):
    modules = _module_choices()
    form = AssignForm()
    form.modules.choices = [SelectChoice(m.id, m.title) for m in modules]
    if request.method == "GET":
        form.modules.data = [m.id for m in modules if m.critical]
        form.valid_days.data = current_app.config["ASSIGNMENT_VALID_DAYS"]
    status = 200
    if form.validate_on_submit():
        try:
            assignment, _ = create_assignment(
                form.label.data, form.modules.data, form.valid_days.data, unit=g.unit,
                external_ref=form.external_ref.data, created_by=current_user,
            )
        except AssignmentError as error:
            db.session.rollback()
            form.label.errors = [*form.label.errors, str(error)[:1].upper() + str(error)[1:] + "."]
            status = 422
        else:
            audit.record("patient.create", patient=assignment.patient)
            audit.record("assignment.create", assignment=assignment,
                         detail={"modules": form.modules.data, "valid_days": form.valid_days.data})
            db.session.commit()
            return redirect(url_for("nurse.code_show", assignment_id=assignment.id), code=303)
    elif request.method == "POST":
        status = 422
    return render_page_or_block("nurse/assign.html", block="content", status=status, form=form, modules=modules,
                                unit=g.unit)


# --- the code, link and QR --------------------------------------------------------------------------

def _code_context(assignment: Assignment) -> dict:
    code = code_for(assignment)
    if code is None:
        return {"code": None}
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/") or request.host_url.rstrip("/")
    link = base + url_for("patient.start_link", code=format_code(code))
    qr = segno.make(link, error="m")
    return {"code": format_code(code), "link": link,
            "qr": qr.svg_data_uri(scale=6, border=4, dark="#000", light="#fff", xmldecl=False)}


@bp.get("/assignments/<int:assignment_id>/code")
def code_show(assignment_id: int):
    context = _code_context(g.case)
    if context["code"]:
        audit.record("assignment.code_view", assignment=g.case, detail={"view": "screen"})
        db.session.commit()
    return render_page_or_block("nurse/code.html", block="content", assignment=g.case,
                                state=code_state(g.case), **context)


@bp.get("/assignments/<int:assignment_id>/print")
def code_print(assignment_id: int):
    context = _code_context(g.case)
    if context["code"] is None or code_state(g.case) != "active":
        flash("There is no working code to print. Reissue the code first.", "error")
        return redirect(url_for("nurse.assignment_show", assignment_id=assignment_id), code=303)
    audit.record("assignment.code_view", assignment=g.case, detail={"view": "print"})
    db.session.commit()
    return render_page_or_block("nurse/code_print.html", block="content", assignment=g.case, **context)


# --- changing an assignment -------------------------------------------------------------------------

@bp.route("/assignments/<int:assignment_id>/reissue", methods=["GET", "POST"])
def code_reissue(assignment_id: int):
    form = ConfirmForm()
    if form.validate_on_submit():
        reissue_code(g.case, current_app.config["ASSIGNMENT_VALID_DAYS"])
        ended = sessions.end_for_assignment(g.case.id)
        audit.record("assignment.reissue", assignment=g.case, detail={"sessions_ended": ended})
        db.session.commit()
        flash("A new code is ready. The old code no longer works; the patient's answers are kept.", "success")
        return redirect(url_for("nurse.code_show", assignment_id=assignment_id), code=303)
    return render_page_or_block("nurse/confirm.html", block="content", form=form, assignment=g.case,
                                action="reissue", status=422 if request.method == "POST" else 200)


@bp.route("/assignments/<int:assignment_id>/revoke", methods=["GET", "POST"])
def code_revoke(assignment_id: int):
    form = ConfirmForm()
    if form.validate_on_submit():
        revoke(g.case)
        ended = sessions.end_for_assignment(g.case.id)
        audit.record("assignment.revoke", assignment=g.case, detail={"sessions_ended": ended})
        db.session.commit()
        flash("The code is revoked: it no longer works. The patient's answers are kept.", "success")
        return redirect(url_for("nurse.assignment_show", assignment_id=assignment_id), code=303)
    return render_page_or_block("nurse/confirm.html", block="content", form=form, assignment=g.case,
                                action="revoke", status=422 if request.method == "POST" else 200)


@bp.post("/assignments/<int:assignment_id>/expiry")
def expiry_update(assignment_id: int):
    form = ExpiryForm()
    if form.validate_on_submit():
        before = g.case.expires_at
        set_expiry(g.case, form.valid_days.data)
        audit.record("assignment.expiry", assignment=g.case, detail={
            "from": before.isoformat(timespec="minutes"), "to": g.case.expires_at.isoformat(timespec="minutes")})
        db.session.commit()
        flash(f"The code now works until {g.case.expires_at:%d %b %Y, %H:%M} UTC.", "success")
        return redirect(url_for("nurse.assignment_show", assignment_id=assignment_id), code=303)
    return _detail_page(expiry_form=form, status=422)


@bp.route("/assignments/<int:assignment_id>/modules", methods=["GET", "POST"])
def modules_update(assignment_id: int):
    assigned = [link.module_id for link in g.case.modules]
    modules = _module_choices()
    offered = {m.id for m in modules}
    # A module already assigned stays on offer even if it is no longer assignable (e.g. retired).
    modules += [link.module for link in g.case.modules if link.module_id not in offered]
    form = ModulesForm()
    form.modules.choices = [SelectChoice(m.id, m.title) for m in modules]
    if request.method == "GET":
        form.modules.data = assigned
    status = 200
    if form.validate_on_submit():
        try:
            added, removed = set_modules(g.case, form.modules.data)
        except AssignmentError as error:
            db.session.rollback()
            form.modules.errors = [str(error)[:1].upper() + str(error)[1:] + "."]
            status = 422
        else:
            if added or removed:
                audit.record("assignment.modules", assignment=g.case, detail={"added": added, "removed": removed})
                flash("Modules updated. Answers already given are kept.", "success")
            db.session.commit()
            return redirect(url_for("nurse.assignment_show", assignment_id=assignment_id), code=303)
    elif request.method == "POST":
        status = 422
    answered = set(db.session.execute(
        db.select(Answer.module_id).where(Answer.assignment_id == g.case.id).distinct()
    ).scalars())
    return render_page_or_block("nurse/modules.html", block="content", status=status, form=form, modules=modules,
                                assignment=g.case, answered=answered)


# --- the detail page and teach-back -----------------------------------------------------------------

def _detail_page(*, expiry_form: ExpiryForm | None = None, teach_back_form: TeachBackForm | None = None,
                 detail=None, status: int = 200) -> Response:
    detail = detail or assignment_detail(g.case)
    correcting = None
    correct_id = request.args.get("correct", type=int)
    if correct_id is not None and teach_back_form is None:
        for module in detail.modules:
            for point in module.key_points:
                latest = point.latest_entry
                if latest is not None and latest.id == correct_id:
                    correcting = latest
                    teach_back_form = TeachBackForm(formdata=None, ref=point.ref, supersedes_id=latest.id,
                                                    learner=latest.learner, method=latest.method)
    if expiry_form is None:
        remaining = (g.case.expires_at - utcnow()).days
        expiry_form = ExpiryForm(formdata=None, valid_days=max(1, min(remaining, 90)) if remaining > 0
                                 else current_app.config["ASSIGNMENT_VALID_DAYS"])
    return render_page_or_block(
        "nurse/assignment.html", block="content", status=status, assignment=g.case, detail=detail,
        summary=detail.summary, state=code_state(g.case), expiry_form=expiry_form,
        teach_back_form=teach_back_form, correcting=correcting, blank_form=TeachBackForm(formdata=None),
        learners=LEARNERS, methods=METHODS, responses=RESPONSES, has_code=code_for(g.case) is not None,
    )


@bp.get("/assignments/<int:assignment_id>")
def assignment_show(assignment_id: int):
    audit.record("patient.results_view", assignment=g.case)
    db.session.commit()
    return _detail_page()


@bp.post("/assignments/<int:assignment_id>/teach-back")
def teach_back_create(assignment_id: int):
    form = TeachBackForm()
    detail = assignment_detail(g.case)
    if form.validate_on_submit():
        try:
            entry = record_teach_back(
                g.case, detail, ref=form.ref.data, learner=form.learner.data, method=form.method.data,
                response=form.response.data, note=form.note.data, by=current_user,
                supersedes_id=form.supersedes_id.data,
            )
            action = "teach_back.correct" if entry.supersedes_id else "teach_back.record"
            audit.record(action, assignment=g.case, detail={
                "teach_back_id": entry.id, "module": entry.module_id, "key_point": entry.key_point,
                "learner": entry.learner, "method": entry.method, "response": entry.response,
                "supersedes": entry.supersedes_id})
            db.session.commit()
        except TeachBackError as error:
            db.session.rollback()
            form.response.errors = [*form.response.errors, str(error)]
        except IntegrityError:  # someone corrected the same entry a moment ago
            db.session.rollback()
            form.response.errors = [*form.response.errors, "This entry was corrected by someone else a moment "
                                    "ago. Check the entries below and try again."]
        else:
            flash("Teach-back recorded.", "success")
            target = url_for("nurse.assignment_show", assignment_id=assignment_id, _anchor=f"kp-{form.ref.data}")
            return redirect(target, code=303)
        detail = assignment_detail(g.case)
    return _detail_page(teach_back_form=form, detail=detail, status=422)


def _medicine_name() -> str:
    """The medicine the bank teaches, as `questions/bank.yaml` names it (the same name the patient's
    summary shows)."""
    meta = bank_meta()
    return meta.medicine if meta is not None else "not named in the question bank"


@bp.get("/assignments/<int:assignment_id>/record")
def record_show(assignment_id: int):
    detail = assignment_detail(g.case)
    audit.record("record.view", assignment=g.case)
    db.session.commit()
    return render_page_or_block(
        "nurse/record.html", block="content", assignment=g.case, detail=detail, summary=detail.summary,
        printed_at=utcnow(), medicine=_medicine_name(), responses=RESPONSES,
        learners=LEARNERS, methods=METHODS,
    )
