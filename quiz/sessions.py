"""Server-side sessions for signed-in browsers, staff and patients alike (one mechanism).

A signed-in browser's cookie holds only a random token, signed; the `web_session` row keyed by the
token's SHA-256 holds who it is (`kind` staff or patient, `user_id` or `assignment_id`), the session
data and its deadlines. Every request reads that row, so ending a session is one UPDATE that every
process sees at once: sign-out, "Stop for now", a code reissued or revoked (every session opened with
that assignment), a staff account disabled. A replayed old cookie finds an ended row and gets nothing.

* Idle deadlines: staff after `STAFF_IDLE_MINUTES` (default 15; bedside devices are shared), patients
  after `PERMANENT_SESSION_LIFETIME` (`SESSION_HOURS`, default 12). Last-seen is written at most once a
  minute (`TOUCH_EVERY`), so a staff session may end up to a minute early; most patient requests cost
  one primary-key read and no write. Requests marked passive (the live list's polling) never extend a
  session: a list left open on a ward tablet still signs itself out.
* `begin()` ends the browser's current session and starts a new row: signing in as staff ends a patient
  session in that browser and vice versa, and the token changes at every sign-in (no fixation).
* Visitors who have not signed in get no row. Their session (the CSRF token of the start and sign-in
  forms, flashed messages) stays in the signed cookie as Flask does by default: it grants nothing, and
  a row per anonymous page view would turn every cookie-less request (a crawler, a load generator) into
  a database insert.

Session writes happen in `save_session`, after the view: it first rolls back whatever the view left
uncommitted (teardown would discard it anyway) so that committing the session row never commits a
view's half-done work.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app, session
from flask.sessions import SecureCookieSession, SessionInterface
from flask.json.tag import TaggedJSONSerializer
from itsdangerous import BadSignature, URLSafeTimedSerializer

from .extensions import db
from .models import WebSession, utcnow

TOUCH_EVERY = timedelta(minutes=1)
KINDS = ("staff", "patient")
_json = TaggedJSONSerializer()


@dataclass(frozen=True)
class SessionRecord:
    """What a request knows about its `web_session` row (a snapshot: no lazy loads after a commit)."""

    key: str
    kind: str
    user_id: int | None
    assignment_id: int | None
    last_seen_at: datetime
    expires_at: datetime


class BrowserSession(SecureCookieSession):
    """`flask.session`: a dict (Flask-WTF's CSRF token, flashes, Flask-Login's keys) plus the row."""

    def __init__(self, initial=None, record: SessionRecord | None = None, token: str | None = None):
        super().__init__(initial)
        self.record = record
        self.token = token
        self.token_is_new = False
        self.passive = False
        # The kind of session that had just run out when this request came in (for a clear message).
        self.lapsed_kind: str | None = None
        self.drop_cookie = False


def _key(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def idle_limit(kind: str) -> timedelta:
    if kind == "staff":
        return timedelta(minutes=current_app.config["STAFF_IDLE_MINUTES"])
    return current_app.permanent_session_lifetime


class DatabaseSessionInterface(SessionInterface):
    session_class = BrowserSession

    def _serializer(self, app: Flask) -> URLSafeTimedSerializer:
        # Made once per app and secret (every request reads and may write the cookie).
        cached = app.extensions.get("quiz_session_serializer")
        if cached is None or cached[0] != app.secret_key:
            cached = (app.secret_key, URLSafeTimedSerializer(
                app.secret_key, salt="quiz-session", serializer=_json,
                signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256}))
            app.extensions["quiz_session_serializer"] = cached
        return cached[1]

    def open_session(self, app: Flask, request) -> BrowserSession:
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie or (app.static_url_path and request.path.startswith(app.static_url_path + "/")):
            return BrowserSession()  # static files never use the session: no database read for them
        try:
            payload = self._serializer(app).loads(cookie, max_age=int(app.permanent_session_lifetime.total_seconds()))
        except BadSignature:
            payload = None
        if not isinstance(payload, dict):
            return self._dropped()
        if "a" in payload and isinstance(payload["a"], dict):
            return BrowserSession(payload["a"])
        token = payload.get("s")
        if not isinstance(token, str):
            return self._dropped()
        row = db.session.execute(
            db.select(WebSession.__table__).where(WebSession.key == _key(token))
        ).mappings().first()
        now = utcnow()
        if row is None or row["ended_at"] is not None:
            return self._dropped()
        record = SessionRecord(row["key"], row["kind"], row["user_id"], row["assignment_id"],
                               row["last_seen_at"], row["expires_at"])
        if record.expires_at <= now:
            fresh = self._dropped()
            fresh.lapsed_kind = record.kind
            return fresh
        data = _json.loads(row["data"]) if row["data"] else {}
        return BrowserSession(data, record=record, token=token)

    @staticmethod
    def _dropped() -> BrowserSession:
        fresh = BrowserSession()
        fresh.drop_cookie = True
        return fresh

    def save_session(self, app: Flask, session: BrowserSession, response) -> None:
        name = self.get_cookie_name(app)
        options = {
            "domain": self.get_cookie_domain(app), "path": self.get_cookie_path(app),
            "secure": self.get_cookie_secure(app), "httponly": self.get_cookie_httponly(app),
            "samesite": self.get_cookie_samesite(app), "partitioned": self.get_cookie_partitioned(app),
        }
        if session.accessed:
            response.vary.add("Cookie")
        record = session.record
        if record is None:  # anonymous: the data (if any) lives in the signed cookie
            if not session:
                if session.modified or session.drop_cookie:
                    response.delete_cookie(name, **{k: options[k] for k in ("domain", "path", "secure", "httponly", "samesite", "partitioned")})
                return
            if session.modified or session.drop_cookie:
                response.vary.add("Cookie")
                value = self._serializer(app).dumps({"a": dict(session)})
                response.set_cookie(name, value, **options)
            return

        now = utcnow()
        values: dict = {}
        if session.modified:
            values["data"] = _json.dumps(dict(session))
        touch = not session.passive and now - record.last_seen_at >= TOUCH_EVERY
        if touch:
            values.update(last_seen_at=now, expires_at=now + idle_limit(record.kind))
        if values:
            db.session.rollback()
            db.session.execute(
                db.update(WebSession)
                .where(WebSession.key == record.key, WebSession.ended_at.is_(None))
                .values(**values)
            )
            db.session.commit()
        if session.token_is_new or touch:
            response.vary.add("Cookie")
            # Staff cookies last as long as the browser; a patient's lets a closed tab come back.
            expires = now + idle_limit(record.kind) if record.kind == "patient" else None
            value = self._serializer(app).dumps({"s": session.token})
            response.set_cookie(name, value, expires=expires, **options)


def init_app(app: Flask) -> None:
    app.session_interface = DatabaseSessionInterface()


# --- what views call ---------------------------------------------------------------------------------

def current() -> SessionRecord | None:
    return session.record  # type: ignore[attr-defined]


def begin(kind: str, *, user_id: int | None = None, assignment_id: int | None = None) -> None:
    """End this browser's session (whatever its kind) and start a new `kind` session. The caller
    commits (with its audit record)."""
    if kind not in KINDS:
        raise ValueError(kind)
    end()
    token = secrets.token_urlsafe(32)
    now = utcnow()
    # Seed the CSRF token so the first form after signing in does not cost a second write.
    data = {"csrf_token": secrets.token_hex(20)}
    record = SessionRecord(_key(token), kind, user_id, assignment_id, now, now + idle_limit(kind))
    db.session.add(WebSession(
        key=record.key, kind=kind, user_id=user_id, assignment_id=assignment_id, data=_json.dumps(data),
        created_at=now, last_seen_at=now, expires_at=record.expires_at,
    ))
    session.clear()
    session.update(data)
    session.record = record
    session.token = token
    session.token_is_new = True
    session.modified = False


def end() -> None:
    """End this browser's session now; what the request adds afterwards (a flash) is anonymous."""
    record = session.record
    if record is not None:
        _end(WebSession.key == record.key)
    session.clear()
    session.record = None
    session.token = None
    session.token_is_new = False
    session.drop_cookie = True
    session.modified = True


def end_for_assignment(assignment_id: int) -> int:
    """End every session opened with this assignment's code (reissue, revoke). Caller commits."""
    return _end(WebSession.assignment_id == assignment_id)


def end_for_user(user_id: int) -> int:
    """End every session of this staff account (disabled, password reset). Caller commits."""
    return _end(WebSession.user_id == user_id)


def _end(condition) -> int:
    result = db.session.execute(
        db.update(WebSession).where(condition, WebSession.ended_at.is_(None)).values(ended_at=utcnow(), data="")
    )
    return result.rowcount


def device_key() -> str:
    """Who "this device" is for rate limits: the session row, or before signing in the random CSRF
    token of the browser's anonymous session (clearing cookies gives a new one; the per-address limit
    is the ceiling for that)."""
    record = session.record
    return record.key if record is not None else str(session.get("csrf_token", ""))


def mark_passive() -> None:
    """This request does not count as activity (automatic polling)."""
    session.passive = True


def purge(older_than: timedelta = timedelta(days=1)) -> int:
    """Delete rows that ended or ran out more than `older_than` ago. Caller commits."""
    cutoff = utcnow() - older_than
    result = db.session.execute(
        db.delete(WebSession).where((WebSession.expires_at < cutoff) | (WebSession.ended_at < cutoff))
    )
    return result.rowcount
