"""Patient pages: enter a code, see the assigned modules, answer one card at a time, read the summary.

Every form posts to a real URL and answers with 303 See Other, so the flow works without JavaScript; an
htmx request to the same URL gets the card it would have been redirected to, rendered from the same
template block (`quiz.htmx`).
"""
from __future__ import annotations

from flask import (
    Blueprint, Response, abort, current_app, flash, g, redirect, request, url_for,
)

from .. import ratelimit, sessions
from ..assignments import find_assignment
from ..bank import snapshot
from ..extensions import db
from ..htmx import is_htmx, render_page_or_block
from ..models import Assignment, AssignmentModule
from ..question_types import QUESTION_TYPES
from ..site import hospital_today, local_path
from ..sources.quotes import patient_quotes
from ..sources.routes import quote_source
from .forms import LeaveForm, NextForm, StartForm, answer_form_for
from .other_screen import answered_elsewhere_message
from .service import (
    AssignmentRef, QuestionChanged, StaleAnswer, acknowledge, answered, assigned_module, assignment_states,
    bank_meta, module_state, next_topic, submit_answer, suggested_order,
)

bp = Blueprint("patient", __name__)

CODE_PROBLEM = (
    "We could not open a quiz with that code. Check the code and try again. "
    "If it still does not work, ask your nurse for a new code."
)
ENDED = "This quiz code has ended. Please ask your nurse for a new code."
SIGN_IN_AGAIN = "Please enter your code to carry on. Your answers are saved."
ALREADY_SAVED = "That answer was already saved. Here is where you are now."
QUESTION_UPDATED = "This question was just updated. Please read it again and choose your answer."
TOO_MANY_TRIES = ("There were too many tries on this device. Wait {minutes} minute{s}, then try again, "
                  "or ask your nurse for help.")
PUBLIC_ENDPOINTS = {"patient.start", "patient.start_link"}


def _redirect(endpoint: str, **values) -> Response:
    """303 after a POST; for htmx, tell it to navigate (a plain redirect would be followed inside XHR)."""
    url = url_for(endpoint, **values)
    if is_htmx():
        response = Response(status=204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, code=303)


@bp.before_request
def load_assignment():
    """The one access check for this blueprint: every page but the start pages needs a live assignment."""
    g.assignment = None
    record = sessions.current()  # server-side: ended sessions (reissue, revoke, sign-out) never get here
    if record is not None and record.kind == "patient":
        assignment = _assignment(record.assignment_id)
        if assignment is not None:
            g.assignment = assignment
        else:
            sessions.end()
            db.session.commit()
            if request.endpoint not in PUBLIC_ENDPOINTS:
                flash(ENDED, "error")
                return _redirect("patient.start")
    if g.assignment is None and request.endpoint not in PUBLIC_ENDPOINTS:
        flash(SIGN_IN_AGAIN, "info")
        return _redirect("patient.start")
    return None


def _assignment(assignment_id: int) -> AssignmentRef | None:
    """The signed-in assignment if it is still usable, as plain values (valid after the request
    commits), its modules in the nurse's order, in one query that also reads the bank's revision
    token (`quiz.bank.snapshot`): every patient page needs all three."""
    assignment, link = Assignment.__table__.c, AssignmentModule.__table__.c  # Core: plain rows
    rows = db.session.execute(
        db.select(assignment.expires_at, assignment.revoked_at, link.module_id, snapshot.token_column())
        .select_from(Assignment.__table__)
        .outerjoin(AssignmentModule.__table__, link.assignment_id == assignment.id)
        .where(assignment.id == assignment_id)
        .order_by(link.position)
    ).all()
    if not rows or not Assignment.usable(rows[0].revoked_at, rows[0].expires_at):
        return None
    snapshot.current(token=rows[0].bank_token)
    return AssignmentRef(assignment_id, tuple(row.module_id for row in rows if row.module_id is not None))


@bp.after_request
def no_store(response: Response) -> Response:
    # Progress pages must be fetched fresh (the back button shows the current card, not a stale form),
    # and a shared tablet's cache must not keep them.
    response.headers["Cache-Control"] = "no-store"
    return response


def _open(assignment: Assignment) -> Response:
    sessions.begin("patient", assignment_id=assignment.id)  # also ends a staff session in this browser
    db.session.commit()
    return redirect(url_for("patient.overview"), code=303)


@bp.route("/", methods=["GET", "POST"])
def start():
    form = StartForm()
    if form.validate_on_submit():
        # Counted before the code is checked (quiz.ratelimit); a right code gives its count back.
        verdict = ratelimit.attempt(
            ("code-device", sessions.device_key(), current_app.config["CODE_ATTEMPTS_PER_DEVICE"]),
            ("code-address", request.remote_addr or "", current_app.config["CODE_ATTEMPTS_PER_ADDRESS"]),
        )
        if not verdict.allowed:
            minutes = verdict.retry_minutes
            form.code.errors = [TOO_MANY_TRIES.format(minutes=minutes, s="" if minutes == 1 else "s")]
            return render_page_or_block("patient/start.html", form=form, current=g.assignment, status=429)
        assignment = find_assignment(form.code.data)
        if assignment is not None:
            ratelimit.refund(verdict)
            return _open(assignment)
        form.code.errors = [*form.code.errors, CODE_PROBLEM]
    status = 422 if form.errors else 200
    return render_page_or_block("patient/start.html", form=form, current=g.assignment, status=status)


@bp.get("/start/<code>")
def start_link(code: str):
    """The link printed with a code. It only fills the code in: signing in is the Start button's POST,
    so a GET changes nothing (no login forgery, no sign-in by a link preview or prefetch) and every
    code attempt goes through the one rate-limited form."""
    form = StartForm(formdata=None, code=code[:40])
    return render_page_or_block("patient/start.html", form=form, current=g.assignment, from_link=True)


@bp.post("/leave")
def leave():
    form = LeaveForm()
    if form.validate_on_submit():
        sessions.end()  # server-side: this browser's cookie is worthless from now on
        db.session.commit()
        flash("You have left the quiz on this device. Your answers are saved: "
              "your code brings you back to where you were.", "info")
    return _redirect("patient.start")


@bp.get("/leave")
def leave_confirm():
    """"Stop for now" asks first, on a page of its own (no JavaScript needed): one stray tap on a
    shared tablet must not sign the patient out."""
    back = local_path(request.args.get("back", ""), url_for("patient.overview"))
    return render_page_or_block("patient/leave.html", leave_form=LeaveForm(), back_url=back)


def _assignment_page(template: str, **context) -> Response:
    """A page about the whole assignment: every module's progress, in the suggested order."""
    states = suggested_order(assignment_states(g.assignment))
    ready = [s for s in states if s.progress.key_points]  # topics with questions a patient may see
    done = [s for s in ready if s.progress.finished]  # learned, or parked for the nurse (quiz.grading)
    key_points = [k for s in states for k in s.progress.key_points]
    return render_page_or_block(
        template, states=states, ready_count=len(ready), done_count=len(done),
        all_complete=bool(ready) and len(done) == len(ready), next_state=next_topic(states),
        not_ready=[s for s in states if not s.progress.key_points], meta=bank_meta(),
        needs_nurse=[k for k in key_points if k.waiting_for_nurse],
        learned_with_nurse=[k for k in key_points if k.needs_nurse and k.mastered],
        learned_on_retry=[k for k in key_points if k.learned_on_retry], today=hospital_today(), **context,
    )


@bp.get("/quiz")
def overview():
    return _assignment_page("patient/overview.html")


def _module_or_404(module_id: str):
    module = assigned_module(g.assignment, module_id)
    if module is None:
        abort(404)
    return module


def _quotes(version, module_id: str):
    """A feedback card's cleaned quotes with their links: computed once per version and module for as
    long as the bank stays the same (finding each quote in its source is the costly part)."""
    return snapshot.current().remember(
        ("patient_quotes", version.id, module_id, request.script_root),
        lambda: patient_quotes(version.citations, lambda c: quote_source(c, module_id)),
    )


def _card(state, answer_form=None, status: int = 200) -> Response:
    """Render the module page with its current card: feedback, question or completion."""
    module = state.module
    # The page's own address, for the forms in the header (a 422 answer page is shown at a POST URL).
    context = {"state": state, "module": module, "progress": state.progress,
               "page_url": url_for("patient.module_card", module_id=module.id)}
    pending = state.pending_feedback
    if pending is not None:
        version = pending.version
        context.update(
            card="feedback", answer=pending, version=version,
            quotes=_quotes(version, module.id),
            next_form=NextForm(formdata=None, answer_id=pending.id),
        )
    elif state.next_question is not None:
        version = state.next_question.current_version
        if answer_form is None:
            answer_form = answer_form_for(
                version, formdata=None, step=state.next_step, question_id=state.next_question.id,
                version_id=version.id,
            )
        context.update(card="question", version=version, form=answer_form,
                       qtype=QUESTION_TYPES[version.type])
    elif not state.progress.key_points:
        context.update(card="unavailable")  # every question withdrawn or back in review
    else:
        # Only here, once per topic, are the other topics looked at: for "Next topic".
        states = assignment_states(g.assignment)
        ready = [s for s in states if s.progress.key_points]
        context.update(card="complete", next_state=next_topic(states, after=module.id),
                       done_count=sum(s.progress.finished for s in ready), ready_count=len(ready))
    return render_page_or_block("patient/module.html", status=status, **context)


@bp.get("/quiz/<module_id>")
def module_card(module_id: str):
    return _card(module_state(g.assignment, _module_or_404(module_id)))


@bp.post("/quiz/<module_id>/answer")
def answer_submit(module_id: str):
    """The state is read once (the answers: one query; the bank is in memory), the answer stored with
    one INSERT and one commit, and the next card computed from that state plus the new answer."""
    module = _module_or_404(module_id)
    state = module_state(g.assignment, module)
    elsewhere = answered_elsewhere_message(state, request.form)  # an older tab or a second device
    if elsewhere:
        return _after_post(module_id, message=elsewhere)
    question = state.next_question
    if question is None or state.pending_feedback is not None:
        return _after_post(module_id, state)  # nothing to answer here now: show the current card
    form = answer_form_for(question.current_version)
    if not form.validate_on_submit():
        if form.step.data != state.next_step or form.question_id.data != question.id:
            return _after_post(module_id, state, message=ALREADY_SAVED)
        if form.version_id.data != question.current_version.id:
            return _after_post(module_id, state, message=QUESTION_UPDATED)
        return _card(state, answer_form=form, status=422)
    try:
        answer, stored = submit_answer(g.assignment, module, form.step.data, form.question_id.data,
                                       form.version_id.data, form.selected(), state=state)
        if not stored:  # another screen's answer to this step got in first, at the same moment
            return _after_post(module_id, message=answered_elsewhere_message(
                module_state(g.assignment, module), request.form))
    except StaleAnswer:
        return _after_post(module_id, message=ALREADY_SAVED)
    except QuestionChanged:
        return _after_post(module_id, message=QUESTION_UPDATED)
    # A repeated submit found its answer stored already: show the state as stored.
    return _after_post(module_id, answered(state, answer) if stored else None)


@bp.post("/quiz/<module_id>/next")
def feedback_next(module_id: str):
    module = _module_or_404(module_id)
    state = module_state(g.assignment, module)
    form = NextForm()
    if form.validate_on_submit():
        state = acknowledge(g.assignment, module, form.answer_id.data, state=state)
    return _after_post(module_id, state)


def _after_post(module_id: str, state=None, message: str | None = None) -> Response:
    """Post/redirect/get for plain forms; for htmx, the card the redirect would show: `state` when the
    view knows it (no second read), else read now."""
    if message:
        flash(message, "info")
    if is_htmx():
        return _card(state or module_state(g.assignment, _module_or_404(module_id)))
    return redirect(url_for("patient.module_card", module_id=module_id), code=303)


@bp.get("/summary")
def summary():
    label = db.session.get(Assignment, g.assignment.id).patient_label
    return _assignment_page("patient/summary.html", patient_label=label)
