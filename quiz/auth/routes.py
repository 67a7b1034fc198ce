"""Staff sign-in and sign-out (`/staff/...`). Sign-in is rate limited per account and per address
(quiz.ratelimit), audited (success, failure, refusal), and starts a fresh server-side session
(quiz.sessions), which also ends a patient's session in the same browser.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, flash, redirect, request, session, url_for
from flask_login import LoginManager, current_user, login_user

from .. import audit, passwords, ratelimit, sessions
from ..extensions import db
from ..htmx import is_htmx, redirect_after, render_page_or_block
from ..models import StaffUser, utcnow
from .forms import SignInForm, SignOutForm

bp = Blueprint("auth", __name__, url_prefix="/staff")

WRONG = "The username or password is not right. Check them and try again."
DISABLED = "This account is disabled. Ask an administrator to enable it."
TOO_MANY = ("Too many sign-in attempts. Wait {minutes} minute{s}, then try again. "
            "If you have forgotten your password, ask an administrator to reset it.")
IDLE = "You were signed out after {minutes} minutes without activity. Please sign in again."


def init_login(manager: LoginManager) -> None:
    # Server-side sessions (quiz.sessions) end sessions; Flask-Login's cookie fingerprinting would only
    # sign nurses out when a tablet changes network.
    manager.session_protection = None
    manager.login_view = "auth.sign_in"

    @manager.user_loader
    def load_user(user_id: str):
        record = sessions.current()
        if record is None or record.kind != "staff" or str(record.user_id) != user_id:
            return None
        user = db.session.get(StaffUser, int(user_id))
        return user if user is not None and user.active else None


def safe_next(target: str | None) -> str | None:
    """Only a path on this site (never `//host` or `https://...`) may be a redirect target."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


@bp.after_request
def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def idle_message() -> str:
    return IDLE.format(minutes=current_app.config["STAFF_IDLE_MINUTES"])


def to_sign_in(message: str) -> Response:
    """Send a visitor who is not signed in as staff to the sign-in page, saying why (their session
    ran out, or `message`), and back to this page afterwards when it was a plain GET."""
    flash(idle_message() if getattr(session, "lapsed_kind", None) == "staff" else message, "info")
    next_url = request.full_path.rstrip("?") if request.method == "GET" and not is_htmx() else None
    return redirect_after(url_for("auth.sign_in", next=next_url))


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    form = SignInForm()
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET" and getattr(session, "lapsed_kind", None) == "staff":
        flash(idle_message(), "info")
    status = 200
    if form.validate_on_submit():
        username = form.username.data.strip().lower()
        config = current_app.config
        verdict = ratelimit.attempt(
            ("sign-in-account", username, config["SIGN_IN_ATTEMPTS_PER_ACCOUNT"]),
            ("sign-in-address", request.remote_addr or "", config["SIGN_IN_ATTEMPTS_PER_ADDRESS"]),
        )
        user = db.session.execute(db.select(StaffUser).where(StaffUser.username == username)).scalar_one_or_none()
        if not verdict.allowed:
            audit.record("staff.sign_in_limited", actor=user, actor_name=username[:64])
            db.session.commit()
            minutes = verdict.retry_minutes
            form.password.errors = [TOO_MANY.format(minutes=minutes, s="" if minutes == 1 else "s")]
            status = 429
        elif passwords.verify(user.password_hash if user else None, form.password.data) and user.active:
            ratelimit.refund(verdict)
            if passwords.needs_rehash(user.password_hash):
                user.password_hash = passwords.hash_password(form.password.data)
            sessions.begin("staff", user_id=user.id)
            login_user(user)
            user.last_sign_in_at = utcnow()
            audit.record("staff.sign_in", actor=user)
            db.session.commit()
            return redirect(next_url or url_for("nurse.home"), code=303)
        else:
            disabled = user is not None and not user.active and passwords.verify(user.password_hash, form.password.data)
            audit.record("staff.sign_in_failed", actor=user, actor_name=username[:64],
                         detail={"reason": "account disabled" if disabled else "wrong username or password"})
            db.session.commit()
            form.password.errors = [DISABLED if disabled else WRONG]
            status = 422
    elif form.errors:
        status = 422
    record = sessions.current()
    return render_page_or_block(
        "auth/sign_in.html", block="content", status=status, form=form, next_url=next_url,
        patient_here=record is not None and record.kind == "patient",
        sign_out_form=SignOutForm(),
    )


@bp.post("/sign-out")
def sign_out():
    form = SignOutForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        audit.record("staff.sign_out")
        sessions.end()
        db.session.commit()
        flash("You are signed out.", "info")
    return redirect(url_for("auth.sign_in"), code=303)
