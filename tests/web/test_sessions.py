"""Server-side sessions and staff sign-in: ending a session works at once (a replayed cookie gets
nothing), staff sessions end after inactivity, patient and staff sessions never mix."""
from __future__ import annotations

from datetime import timedelta

import pytest

from quiz.extensions import db
from quiz.models import AuditEvent, StaffUser, WebSession, utcnow
from tests.conftest import csrf_token
from tests.web.patient import HX, Patient, text
from tests.web.staff import PASSWORD, form_token, sign_in


def cookie(client) -> str:
    found = client.get_cookie("session")
    return found.value if found else ""


def rows(app, **filters) -> list[WebSession]:
    with app.app_context():
        return list(db.session.execute(db.select(WebSession).filter_by(**filters)).scalars())


def live_rows(app, **filters) -> list[WebSession]:
    return [r for r in rows(app, **filters) if r.ended_at is None]


def replay(app, value: str):
    """A new browser that sends an old cookie."""
    other = app.test_client()
    other.set_cookie("session", value)
    return other


def test_sign_in_starts_a_server_session_and_the_cookie_holds_only_its_token(app, ward):
    client = app.test_client()
    response = sign_in(client, ward.nurse)
    assert response.status_code == 303 and response.headers["Location"] == "/nurse/"
    assert client.get("/nurse/", follow_redirects=True).status_code == 200
    (row,) = live_rows(app, kind="staff")
    from itsdangerous import URLSafeTimedSerializer

    from quiz.sessions import _json

    payload = URLSafeTimedSerializer(app.secret_key, salt="quiz-session", serializer=_json,
                                     signer_kwargs={"key_derivation": "hmac", "digest_method": __import__("hashlib").sha256}
                                     ).loads(cookie(client))
    assert list(payload) == ["s"] and len(payload["s"]) >= 40  # one random token, nothing else
    assert row.key != payload["s"]  # the table keeps a hash of the token, not the token
    cookie_header = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie_header and "SameSite=Lax" in cookie_header and "Expires" not in cookie_header


@pytest.mark.parametrize("username, password", [("nina", "wrong password!"), ("nobody", PASSWORD), ("", PASSWORD)])
def test_a_failed_sign_in_says_so_and_is_audited(app, ward, username, password):
    client = app.test_client()
    response = sign_in(client, username, password)
    assert response.status_code == 422
    body = text(response)
    assert ("The username or password is not right" in body) or ("Enter your username." in body)
    assert client.get("/nurse/").status_code == 303
    if username:
        with app.app_context():
            event = db.session.execute(db.select(AuditEvent).order_by(AuditEvent.id.desc())).scalars().first()
            assert event.action == "staff.sign_in_failed" and event.actor_name == username
            assert event.address == "127.0.0.1"


def test_a_disabled_account_cannot_sign_in_and_loses_its_sessions_at_once(app, ward, runner):
    client = app.test_client()
    sign_in(client, ward.nurse)
    assert client.get("/nurse/").status_code == 302
    result = runner.invoke(args=["users", "disable", ward.nurse])
    assert result.exit_code == 0 and "ended 1 session(s)" in result.output
    assert client.get("/nurse/").status_code == 303  # the open session ended in every process
    response = sign_in(app.test_client(), ward.nurse)
    assert response.status_code == 422 and "This account is disabled" in text(response)


def test_sign_out_ends_the_session_and_a_replayed_cookie_gets_nothing(app, ward):
    client = app.test_client()
    sign_in(client, ward.nurse)
    old = cookie(client)
    token = form_token(client, "/nurse/")
    response = client.post("/staff/sign-out", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/staff/sign-in"
    assert "You are signed out." in text(client.get("/staff/sign-in"))
    stolen = replay(app, old)
    response = stolen.get(f"/nurse/units/{ward.unit_id}")
    assert response.status_code == 303 and response.headers["Location"].startswith("/staff/sign-in")
    assert live_rows(app, kind="staff") == []
    with app.app_context():
        assert db.session.execute(db.select(WebSession)).scalar_one().data == ""  # wiped when it ended


def test_a_staff_session_ends_after_inactivity_with_a_clear_message(app, ward):
    client = app.test_client()
    sign_in(client, ward.nurse)
    assert client.get(f"/nurse/units/{ward.unit_id}").status_code == 200
    with app.app_context():  # 16 minutes pass without a request
        row = db.session.execute(db.select(WebSession)).scalar_one()
        row.last_seen_at -= timedelta(minutes=16)
        row.expires_at = row.last_seen_at + timedelta(minutes=app.config["STAFF_IDLE_MINUTES"])
        db.session.commit()
    response = client.get(f"/nurse/units/{ward.unit_id}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/staff/sign-in?next=/nurse/units/{ward.unit_id}"
    assert "You were signed out after 15 minutes without activity" in text(client.get(response.headers["Location"]))


def test_polling_the_list_never_keeps_a_staff_session_alive(app, ward):
    client = app.test_client()
    sign_in(client, ward.nurse)
    page = client.get(f"/nurse/units/{ward.unit_id}").text
    import re

    marker = re.search(r'data-version="([0-9a-f]+)"', page).group(1)
    with app.app_context():
        row = db.session.execute(db.select(WebSession)).scalar_one()
        row.last_seen_at -= timedelta(minutes=10)
        row.expires_at -= timedelta(minutes=10)
        before = (row.last_seen_at, row.expires_at)
        db.session.commit()
    assert client.get(f"/nurse/units/{ward.unit_id}?v={marker}", headers=HX).status_code == 204
    with app.app_context():
        row = db.session.execute(db.select(WebSession)).scalar_one()
        assert (row.last_seen_at, row.expires_at) == before
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    # When it has run out, the next poll sends the page to the sign-in form (the list leaves the screen).
    response = client.get(f"/nurse/units/{ward.unit_id}?v={marker}", headers=HX)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/staff/sign-in"
    assert "You were signed out after 15 minutes without activity" in text(client.get("/staff/sign-in"))


def test_activity_is_written_at_most_once_a_minute(app, ward):
    client = app.test_client()
    sign_in(client, ward.nurse)
    (row,) = rows(app)
    for _ in range(3):
        client.get(f"/nurse/units/{ward.unit_id}")
    assert rows(app)[0].last_seen_at == row.last_seen_at
    with app.app_context():
        stored = db.session.execute(db.select(WebSession)).scalar_one()
        stored.last_seen_at -= timedelta(seconds=61)
        db.session.commit()
    client.get(f"/nurse/units/{ward.unit_id}")
    assert rows(app)[0].last_seen_at > row.last_seen_at


def test_staff_sign_in_ends_a_patient_session_in_that_browser_and_back(app, ward):
    client = app.test_client()
    Patient(client).start(ward.code)
    assert client.get("/quiz").status_code == 200
    page = text(client.get("/staff/sign-in"))
    assert "A patient's quiz is open on this device" in page
    patient_cookie = cookie(client)
    sign_in(client, ward.nurse)
    assert client.get("/quiz").status_code == 303  # the patient session is over in this browser
    assert replay(app, patient_cookie).get("/quiz").status_code == 303
    assert client.get(f"/nurse/units/{ward.unit_id}").status_code == 200
    staff_cookie = cookie(client)
    Patient(client).start(ward.code)  # a patient takes the tablet and enters a code
    assert client.get("/quiz").status_code == 200
    assert client.get(f"/nurse/units/{ward.unit_id}").status_code == 303
    assert replay(app, staff_cookie).get(f"/nurse/units/{ward.unit_id}").status_code == 303
    assert [r.kind for r in live_rows(app)] == ["patient"]


def test_stop_for_now_ends_the_patient_session_everywhere_it_was_copied(app, ward):
    client = app.test_client()
    Patient(client).start(ward.code)
    old = cookie(client)
    client.post("/leave", data={"csrf_token": csrf_token(client.get("/quiz").text)})
    assert replay(app, old).get("/quiz").status_code == 303


def test_anonymous_visitors_get_no_session_row(app, ward):
    client = app.test_client()
    client.get("/")
    client.get("/staff/sign-in")
    assert cookie(client)  # the CSRF token lives in the signed cookie
    assert rows(app) == []


def test_a_tampered_cookie_is_ignored(app, ward):
    client = app.test_client()
    sign_in(client, ward.nurse)
    assert replay(app, cookie(client)[:-2] + "xx").get("/nurse/").status_code == 303


@pytest.mark.parametrize("target, kept", [
    ("/nurse/assignments/1", True), ("//evil.example/x", False), ("https://evil.example/", False),
    ("/\\evil.example", False), ("nurse", False),
])
def test_sign_in_goes_back_only_to_a_page_of_this_site(app, ward, target, kept):
    client = app.test_client()
    token = form_token(client, "/staff/sign-in")
    response = client.post("/staff/sign-in", query_string={"next": target},
                           data={"username": ward.nurse, "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == (target if kept else "/nurse/")


def test_sign_in_upgrades_an_old_password_hash(app, ward):
    from argon2 import PasswordHasher

    with app.app_context():
        user = db.session.execute(db.select(StaffUser).filter_by(username=ward.nurse)).scalar_one()
        user.password_hash = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1).hash(PASSWORD)
        db.session.commit()
    sign_in(app.test_client(), ward.nurse)
    with app.app_context():
        user = db.session.execute(db.select(StaffUser).filter_by(username=ward.nurse)).scalar_one()
        assert user.password_hash.startswith("$argon2id$") and "m=16,t=2" not in user.password_hash
        assert user.last_sign_in_at is not None


def test_the_start_page_offers_staff_sign_in_but_not_to_a_patient(app, ward):
    client = app.test_client()
    assert 'href="/staff/sign-in"' in client.get("/").text
    Patient(client).start(ward.code)
    assert 'href="/staff/sign-in"' not in client.get("/quiz").text


def test_purge_removes_only_old_ended_sessions(app, ward, runner):
    first, second = app.test_client(), app.test_client()
    sign_in(first, ward.nurse)
    sign_in(second, ward.admin)
    first.post("/staff/sign-out", data={"csrf_token": form_token(first, "/nurse/")})
    with app.app_context():
        db.session.execute(db.update(WebSession).where(WebSession.ended_at.is_not(None))
                           .values(ended_at=utcnow() - timedelta(days=2)))
        db.session.commit()
    result = runner.invoke(args=["sessions", "purge"])
    assert result.exit_code == 0 and "Removed 1 ended session(s)." in result.output
    assert [r.kind for r in rows(app)] == ["staff"] and second.get("/nurse/").status_code == 200


def test_static_files_never_read_the_session(app, ward):
    from sqlalchemy import event

    client = app.test_client()
    sign_in(client, ward.nurse)
    seen = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get("/static/css/app.css").status_code == 200
        assert seen == []
        client.get("/nurse/")
        assert any("web_session" in statement for statement in seen)  # (the listener does see requests)
    finally:
        event.remove(engine, "before_cursor_execute", record)
