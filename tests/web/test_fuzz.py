"""Hostile input to every route in `app.url_map`, for every role: never a 500, never input reflected
unescaped.

The routes come from `app.url_map` itself, and what to send them from the pages: each role's browser
crawls its own links (GET only) and records every form it is shown, with its real CSRF token and field
names, and the real arguments of every link. Hypothesis then sends, per example, one request to every
(endpoint, method) for every role: one field attacked (replaced, duplicated or dropped: huge and
negative numbers, Unicode digits, NUL, long strings, HTML/script, SQL-ish text), the others mostly as
the page has them so the attack gets past the rest of the validation; sometimes a file where text is
expected or a JSON body; with and without `HX-Request`; URL arguments real or hostile. A new route is
picked up automatically; a POST route whose form no role is ever shown, or a URL converter the fuzzer
does not know, fails the walk with a message saying so (show the form in `_prepare`'s data, or teach
`url_argument` the converter).

Every example starts from the same database (a copy of a prepared one: SQLite file copy, or on
PostgreSQL the saved rows put back) and the same signed-in cookies, so a fuzzed "sign out", "revoke"
or "disable" that happens to be valid cannot change what the next example tests.
"""
from __future__ import annotations

import io
import json
import os
import re
import sqlite3
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, text
from werkzeug.datastructures import MultiDict

from quiz.assignments import create_assignment
from quiz.bank import sync_bank
from quiz.extensions import db
from quiz.models import Unit, utcnow
from tests.conftest import make_app
from tests.web.crawl import crawl, read_page, routes_of
from tests.web.patient import Patient
from tests.web.staff import add_staff, build_ward, sign_in

ROLES = ("anonymous", "patient", "nurse", "admin")
START_PAGES = {
    "anonymous": ["/", "/staff/sign-in"],
    "patient": ["/quiz", "/summary", "/leave"],
    "nurse": ["/nurse/"],
    "admin": ["/admin/", "/admin/staff", "/nurse/"],
}
# Examples per role; each is one request to every route. PostgreSQL (the Makefile's second pass over
# tests/web) puts the snapshot back row by row, which is slower: fewer examples there.
EXAMPLES = 4 if os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql") else 8

# --- hostile values -------------------------------------------------------------------------------

MARK = st.text(alphabet="bcdfghjkmnpqrstvwxz", min_size=6, max_size=6).map(lambda s: "zq" + s)
INJECTIONS = (
    '<script>alert("{}")</script>', '"><img src=x onerror=alert("{}")>', "'><svg onload={}>",
    '<b hx-get="/{}">bold</b>', '</textarea><i>{}</i>', '{{{{ config }}}}<u>{}</u>',
)
NUMBERS = ("-1", "-2147483649", "2147483648", "9223372036854775808", "1" + "0" * 40, "1e309", "NaN",
           "Infinity", "0x10", "1.5", " 7 ", "+3", "0", "00", "-0")
UNICODE = ("²", "²-1", "١٢٣", "߁", "𝟙", "Ⅻ", "½", "٣", "\u200b1", "e\u0301", "\U0001F489")
NASTY = ("\x00", "a\x00b", "%00", "\r\nSet-Cookie: x=1", "../../etc/passwd", "' OR '1'='1", "1; DROP TABLE answer;--",
         "1 UNION SELECT password_hash FROM staff_user", "\\", "%s%s%n", "{}", "[]", "null", "true", "  ", "")


def injection():
    return st.builds(lambda template, mark: template.format(mark), st.sampled_from(INJECTIONS), MARK)


def hostile_for(real: str):
    """Hostile values, weighted towards what breaks a field like this one (numbers for a number)."""
    if real.strip().isdigit():
        return st.one_of(st.sampled_from(NUMBERS + UNICODE[:5]), st.integers(-(2**70), 2**70).map(str))
    return hostile_text()


def hostile_text():
    return st.one_of(
        injection(), st.sampled_from(NUMBERS + UNICODE + NASTY),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.text(max_size=40),
        st.builds(lambda c, n: c * n, st.sampled_from("A9<é\x00"), st.sampled_from([300, 5_000, 70_000])),
    )


# --- the world the roles live in ----------------------------------------------------------------

class World:
    """The app, its prepared database and, per role, several signed-in browsers (cookies and CSRF
    token): each POST route of an example gets its own, so a valid "sign out" or "stop for now" ends
    only the browser it was sent from, as it would on a real ward."""

    def __init__(self, app, restore, browsers, routes):
        self.app, self.restore, self.browsers, self.routes = app, restore, browsers, routes

    def client(self, role: str, number: int = 0):
        """Browser `number` of this role as it was when the snapshot was taken, and its CSRF token."""
        cookies, token = self.browsers[role][number % len(self.browsers[role])]
        client = self.app.test_client()
        for name, value in cookies.items():
            client.set_cookie(name, value)
        return client, token


def _prepare(app, bank):
    """Tables, the bank, a ward with staff and patients in several states."""
    with app.app_context():
        db.session.close()
        db.drop_all()
        db.create_all()
        sync_bank(bank)
        db.session.commit()
    ward = build_ward(app)
    with app.app_context():
        unit = db.session.get(Unit, ward.unit_id)
        # A disabled account: its "enable" form shows on its page (a start page of the admin's crawl,
        # since the staff list puts disabled accounts last, beyond the crawl's two pages per endpoint).
        disabled = add_staff("dora", "nurse", [unit], active=False)
        revoked, _ = create_assignment("Bed 9", ["stopping-safely"], 14, unit=unit)
        revoked.revoked_at = utcnow()
        db.session.commit()
        disabled_page = f"/admin/staff/{disabled.id}"
    return ward, disabled_page


def _token(client, path: str) -> str:
    forms = read_page(client.get(path).get_data(as_text=True))[0]
    return next((f.fields["csrf_token"][0] for f in forms if "csrf_token" in f.fields), "")


def _signed_in(app, role: str, ward, answer: bool):
    client = app.test_client()
    if role == "patient":
        patient = Patient(client)
        assert patient.start(ward.code).status_code == 303
        if answer:  # one module shows feedback, the other a question
            assert patient.answer(correct=False)[0].status_code == 303
    elif role in ("nurse", "admin"):
        assert sign_in(client, ward.nurse if role == "nurse" else ward.admin).status_code == 303
    return client


def _cookies(client) -> dict[str, str]:
    # Every cookie the browser holds (the session's and the text size's), whatever their names.
    return {cookie.key: cookie.value for cookie in client._cookies.values()}


def _sqlite_snapshot(app, tmp_path):
    live = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    saved = tmp_path / "snapshot.sqlite3"
    with app.app_context():
        db.engine.dispose()
    # SQLite's backup API, not a file copy: it reads through the write-ahead log, so the copy holds
    # every committed row even while a connection elsewhere keeps the log from being checkpointed.
    with sqlite3.connect(live) as source, sqlite3.connect(saved) as target:
        source.backup(target)

    def restore():
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        with sqlite3.connect(saved) as source, sqlite3.connect(live) as target:
            source.backup(target)
    return restore


def _postgres_snapshot(app):
    with app.app_context():
        tables = db.metadata.sorted_tables
        rows = {t.name: [dict(r) for r in db.session.execute(t.select()).mappings()] for t in tables}
        db.session.close()

    def restore():
        with app.app_context():
            db.session.remove()
            with db.engine.begin() as connection:
                # TRUNCATE, not DELETE: the append-only tables refuse DELETE (their triggers).
                connection.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " CASCADE"))
                for table in tables:
                    if rows[table.name]:
                        connection.execute(insert(table), rows[table.name])
    return restore


@pytest.fixture(scope="module")
def world(bank, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("fuzz")
    app = make_app(WTF_CSRF_ENABLED=True)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app = make_app(WTF_CSRF_ENABLED=True, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'fuzz.sqlite3'}")
    ward, disabled_page = _prepare(app, bank)
    start_pages = {**START_PAGES, "admin": [*START_PAGES["admin"], disabled_page]}
    routes = routes_of(app)
    posts = sum(1 for r in routes.values() if r.method != "GET")
    browsers = {}
    for role in ROLES:
        clients = [_signed_in(app, role, ward, answer=number == 0) for number in range(posts)]
        crawl(app, clients[0], role, routes, start_pages[role])
        tokens = [_token(c, start_pages[role][0]) for c in clients]  # (an anonymous token is set here)
        browsers[role] = [(_cookies(c), token) for c, token in zip(clients, tokens)]
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        restore = _sqlite_snapshot(app, tmp_path)
    else:
        restore = _postgres_snapshot(app)
    yield World(app, restore, browsers, routes)
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


# --- building a request ---------------------------------------------------------------------------

def url_argument(draw, route, name: str, converter: str) -> str:
    real = [args[name] for args in route.seen_args if name in args]
    if converter == "int":
        fuzz = st.sampled_from(["0", "-1", "2147483648", "9223372036854775808", "1" + "0" * 30, "²", "1.0"])
    elif converter in ("string", "path"):
        fuzz = hostile_text().filter(lambda s: 0 < len(s) < 2000)
    else:
        pytest.fail(f"the fuzzer cannot build a <{converter}> argument ({route.rule}): teach url_argument")
    choice = draw(st.one_of(st.sampled_from(real), fuzz) if real else fuzz)
    return quote(choice, safe="")


def build_path(draw, route) -> str:
    def replace(match_):
        name = match_.group(1)
        return url_argument(draw, route, name, route.arguments[name])
    return re.sub(r"<(?:[^:<>]+:)?(\w+)>", replace, route.rule)


def field_values(draw, fields: dict[str, list[str]]) -> tuple[MultiDict, list[str]]:
    """One field attacked (replaced, duplicated with a hostile copy first or last, or dropped), the
    others mostly as the page has them, so the hostile value gets past validation of the rest and
    reaches the code behind it. Returns the data and the hostile strings sent."""
    data, sent = MultiDict(), []
    target = draw(st.sampled_from([n for n in fields if n != "csrf_token"] or ["csrf_token"]))
    for name, values in fields.items():
        real = values[0] if values else ""
        if name == target:
            action = draw(st.sampled_from(["replace", "replace", "replace", "duplicate", "drop"]))
        elif name == "csrf_token":  # mostly the real token: otherwise every POST stops at the CSRF check
            action = draw(st.sampled_from(["keep"] * 9 + ["replace"]))
        else:
            action = draw(st.sampled_from(["keep"] * 5 + ["other", "drop", "replace"]))
        if action == "keep":
            data.add(name, real)
        elif action == "other":
            data.add(name, draw(st.sampled_from(values or [""])))
        elif action in ("replace", "duplicate"):
            value = draw(hostile_for(real))
            sent.append(value)
            pair = [value, real] if draw(st.booleans()) else [real, value]
            for item in (pair if action == "duplicate" else [value]):
                data.add(name, item)
    if draw(st.integers(0, 9)) == 0:  # a field nobody asked for
        value = draw(hostile_text())
        sent.append(value)
        data.add(draw(st.sampled_from(["step", "id", "role", "is_admin", "x" * 300])), value)
    return data, sent


def request_for(draw, role: str, route, token: str):
    """(path, method, keyword arguments for the test client, hostile strings sent)."""
    path, sent = build_path(draw, route), []
    headers = {"HX-Request": "true"} if draw(st.booleans()) else {}
    if route.method == "GET":
        query = MultiDict()
        for name in sorted(route.query_names):
            if draw(st.booleans()):
                real = route.query_values[name]
                value = draw(st.one_of(st.sampled_from(real), hostile_for(real[0] if real else "")))
                sent.append(value)
                query.add(name, value)
        if query:
            path += "?" + urlencode(list(query.items(multi=True)))
        return path, {"headers": headers}, sent
    if not route.forms:
        pytest.fail(f"no role's pages show a form posting to {route.method} {route.rule} ({route.endpoint}): "
                    "the fuzzer cannot build its fields; show it in tests/web/test_fuzz.py's _prepare")
    # The role's own form if it is shown one; otherwise another role's, carrying this role's own token
    # (a patient posting the nurse's forms must meet the access check, not only the CSRF check).
    form = draw(st.sampled_from(route.forms.get(role) or [f for forms in route.forms.values() for f in forms]))
    fields = {**form.fields, "csrf_token": [token]} if "csrf_token" in form.fields else form.fields
    data, sent = field_values(draw, fields)
    if form.action and draw(st.integers(0, 2)) == 0:
        path = form.action  # the form's own action, real arguments
    body = draw(st.sampled_from(["form"] * 8 + ["multipart", "json"]))
    if body == "json":
        kwargs = {"data": json.dumps(data.to_dict(flat=False)), "content_type": "application/json"}
    elif body == "multipart":
        files = MultiDict(data)
        name = draw(st.sampled_from(list(form.fields) or ["file"]))
        files.add(name, (io.BytesIO(b"\x00<script>"), "x.html"))  # a file where text is expected
        kwargs = {"data": files, "content_type": "multipart/form-data"}
    else:
        kwargs = {"data": data}
    return path, {"headers": headers, **kwargs}, sent


def reflected_unescaped(body: str, sent: list[str]) -> list[str]:
    """Injection payloads (they carry a marker) that came back as they were sent."""
    return [value for value in sent if "zq" in value and "<" in value and value in body]


@pytest.mark.parametrize("role", ROLES)
# No shrinking: an example is ~40 requests and the report lists every problem of the failing one.
@settings(max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_hostile_input_to_every_route(world, role, data):
    world.restore()
    problems = []
    # GETs change nothing; the POSTs in a drawn order, so that a valid "sign out" or "stop for now"
    # (which ends this browser's session) comes before a different POST in each example.
    gets = [r for key, r in sorted(world.routes.items()) if r.method == "GET"]
    posts = [r for key, r in sorted(world.routes.items()) if r.method != "GET"]
    posts = [posts[i] for i in data.draw(st.permutations(range(len(posts))), label="order of the POSTs")]
    for number, route in enumerate(gets + posts):
        client, token = world.client(role, max(0, number - len(gets)))
        path, kwargs, sent = request_for(data.draw, role, route, token)
        try:
            response = client.open(path, method=route.method, **kwargs)
        except Exception as error:  # noqa: BLE001 - TESTING propagates what would be a 500
            problems.append(f"{route.method} {path[:200]}: {type(error).__name__}: {str(error)[:300]}")
            continue
        if response.status_code >= 500:
            problems.append(f"{route.method} {path[:200]}: {response.status_code}")
        elif response.mimetype == "text/html":
            for value in reflected_unescaped(response.get_data(as_text=True), sent):
                problems.append(f"{route.method} {path[:200]}: reflected unescaped: {value[:100]!r}")
    assert not problems, f"{role}:\n" + "\n".join(problems)


def test_the_crawl_found_every_form_and_argument(world):
    """Every POST route has a form some role is shown, and every argument a real value or a fuzz
    strategy: the walk covers the whole url_map (a new route is either covered or this fails)."""
    missing = [f"{r.method} {r.rule}" for r in world.routes.values() if r.method != "GET" and not r.forms]
    assert not missing, f"no page shows a form for: {missing}"
    known = {"int", "string", "path"}
    unknown = {f"{r.rule}: {c}" for r in world.routes.values() for c in r.arguments.values() if c not in known}
    assert not unknown, f"the fuzzer cannot build these URL arguments: {unknown}"
    never_linked = [f"{r.rule}" for r in world.routes.values()
                    if r.arguments and not r.seen_args and r.endpoint != "static" and r.method == "GET"]
    # Pages reached only by typing their address are fuzzed with fuzz arguments alone; say which.
    assert len(never_linked) < len(world.routes) // 2, never_linked


SWEEP = ("x" * 5_000, "9223372036854775808", "-1", "\x00", "²")


@pytest.mark.parametrize("role", ROLES)
def test_each_field_of_each_form_alone_with_each_classic_value(world, role):
    """The deterministic floor under the random walk: every field of every form this role is shown,
    one at a time, set to each classic breaker (a value longer than any column, beyond 64 bits,
    negative, NUL, a Unicode digit) with the rest of the form as the page has it. On PostgreSQL this
    is what proves the forms' length limits fit the columns (SQLite does not enforce them)."""
    world.restore()
    problems = []
    posts = sorted((r for r in world.routes.values() if r.method != "GET" and role in r.forms), key=repr)
    for number, route in enumerate(posts):
        client, token = world.client(role, number)
        form = route.forms[role][0]
        base = {name: values[0] if values else "" for name, values in form.fields.items()}
        if "csrf_token" in base:
            base["csrf_token"] = token
        for name in base:
            if name == "csrf_token":
                continue
            for value in SWEEP:
                try:
                    status = client.post(form.action, data={**base, name: value}).status_code
                except Exception as error:  # noqa: BLE001 - TESTING propagates what would be a 500
                    problems.append(f"{form.action} {name}={value[:20]!r}: {type(error).__name__}: {str(error)[:200]}")
                    continue
                if status >= 500:
                    problems.append(f"{form.action} {name}={value[:20]!r}: {status}")
    assert not problems, "\n".join(problems)
