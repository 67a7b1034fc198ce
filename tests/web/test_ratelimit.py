"""Rate limits (quiz.ratelimit): a ward of tablets behind one address, staff sign-in, atomic counting,
memory and Redis storage."""
from __future__ import annotations

import os
import threading
import uuid

import pytest

from quiz import ratelimit
from quiz.extensions import db
from quiz.models import AuditEvent
from tests.conftest import make_app
from tests.web.patient import Patient, text
from tests.web.staff import build_ward, sign_in

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")
MID_WINDOW = 1_800_000_030.0  # 30 s into a minute, 30 min into an hour: no window boundary mid-test


class FrozenClock:
    def __init__(self, now: float):
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    frozen = FrozenClock(MID_WINDOW)
    monkeypatch.setattr(ratelimit, "time", frozen)
    return frozen


@pytest.fixture
def limited_app(bank, clock):
    """An app with the rate limits on (the test profile turns them off)."""
    from quiz.bank import sync_bank

    def make(**config):
        app = make_app(RATELIMIT_ENABLED=True, **config)
        with app.app_context():
            db.create_all()
            sync_bank(bank)
            db.session.commit()
        made.append(app)
        return app

    made = []
    yield make
    for app in made:
        with app.app_context():
            db.session.close()
            db.drop_all()


def test_one_patients_typos_lock_only_their_own_tablet(limited_app):
    app = limited_app()
    ward = build_ward(app)
    typo_tablet, other_tablet = Patient(app.test_client()), Patient(app.test_client())  # same address
    statuses = [typo_tablet.start("ACDEF-HJKMN").status_code for _ in range(6)]
    assert statuses == [422] * 5 + [429]
    locked = typo_tablet.start(ward.code)  # even the right code waits: the tablet is locked for a moment
    assert locked.status_code == 429
    assert "There were too many tries on this device. Wait 1 minute, then try again" in text(locked)
    assert other_tablet.start("ACDEF-HJKMN").status_code == 422  # the rest of the ward is not locked out
    assert other_tablet.start(ward.code).status_code == 303


def test_clearing_cookies_between_guesses_meets_the_address_limit(limited_app):
    app = limited_app(CODE_ATTEMPTS_PER_ADDRESS="12 per minute")
    ward = build_ward(app)
    statuses = [Patient(app.test_client()).start("ACDEF-HJKMN").status_code for _ in range(13)]
    assert statuses == [422] * 12 + [429]
    assert Patient(app.test_client()).start(ward.code).status_code == 429
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.0.0.9"  # another ward's address is not affected
    assert Patient(elsewhere).start(ward.code).status_code == 303


def test_right_codes_give_their_count_back(limited_app):
    app = limited_app(CODE_ATTEMPTS_PER_DEVICE="2 per minute")
    ward = build_ward(app)
    client = app.test_client()
    for _ in range(5):  # a shared tablet: patients sign in one after another
        assert Patient(client).start(ward.code).status_code == 303
        assert Patient(client).start(ward.other_code).status_code == 303


def test_staff_sign_in_is_limited_per_account_with_a_clear_message(limited_app):
    app = limited_app(SIGN_IN_ATTEMPTS_PER_ACCOUNT="3 per 15 minutes")
    ward = build_ward(app)
    attacker = app.test_client()
    assert [sign_in(attacker, ward.nurse, "wrong password!").status_code for _ in range(3)] == [422] * 3
    refused = sign_in(app.test_client(), ward.nurse)  # even the right password, from another browser
    assert refused.status_code == 429
    # 4 attempts in this window: it has to end and then half fade before the 5th fits (sliding window).
    assert "Too many sign-in attempts. Wait 22 minutes, then try again." in text(refused)
    assert sign_in(app.test_client(), ward.admin).status_code == 303  # other accounts are not affected
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(AuditEvent.id)).where(
            AuditEvent.action == "staff.sign_in_limited")).scalar_one() == 1


def test_staff_sign_in_is_limited_per_address(limited_app):
    app = limited_app(SIGN_IN_ATTEMPTS_PER_ADDRESS="4 per 15 minutes")
    ward = build_ward(app)
    client = app.test_client()
    statuses = [sign_in(client, f"guess{i}", "wrong password!").status_code for i in range(5)]
    assert statuses == [422] * 4 + [429]
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.0.0.7"
    assert sign_in(elsewhere, ward.nurse).status_code == 303


def test_successful_sign_ins_do_not_use_up_the_limits(limited_app):
    app = limited_app(SIGN_IN_ATTEMPTS_PER_ACCOUNT="2 per 15 minutes", SIGN_IN_ATTEMPTS_PER_ADDRESS="2 per 15 minutes")
    ward = build_ward(app)
    for _ in range(5):  # a nurse signed out by the idle timeout again and again in one shift
        assert sign_in(app.test_client(), ward.nurse).status_code == 303


def test_retry_after_counts_down_as_the_window_slides(limited_app, clock):
    app = limited_app()
    with app.test_request_context():
        checks = [("x", "someone", "3 per minute")]
        assert [ratelimit.attempt(*checks).allowed for _ in range(4)] == [True, True, True, False]
        verdict = ratelimit.attempt(*checks)
        assert not verdict.allowed and 30 < verdict.retry_after <= 60 + 30
        clock.now += verdict.retry_after
        assert ratelimit.attempt(*checks).allowed


def _concurrent_attempts(app, tries: int, limit: int) -> int:
    barrier = threading.Barrier(tries)
    allowed = []
    ident = uuid.uuid4().hex

    def attempt():
        with app.app_context():
            barrier.wait()
            allowed.append(ratelimit.attempt(("race", ident, f"{limit} per hour")).allowed)

    threads = [threading.Thread(target=attempt) for _ in range(tries)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(allowed)


def test_counting_is_atomic_in_memory(limited_app):
    assert _concurrent_attempts(limited_app(), tries=40, limit=10) == 10


def redis_or_skip():
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as error:  # noqa: BLE001
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable at {REDIS_URL}: {error}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")


def test_counting_is_atomic_and_shared_in_redis(limited_app):
    redis_or_skip()
    first = limited_app(RATELIMIT_STORAGE_URI=REDIS_URL)
    second = limited_app(RATELIMIT_STORAGE_URI=REDIS_URL)  # another worker process, same storage
    try:
        assert _concurrent_attempts(first, tries=40, limit=10) == 10
        with first.app_context():
            verdicts = [ratelimit.attempt(("shared", "ward-7", "3 per hour")) for _ in range(2)]
            ratelimit.refund(verdicts[0])
        with second.app_context():
            assert [ratelimit.attempt(("shared", "ward-7", "3 per hour")).allowed for _ in range(3)] == [True, True, False]
    finally:
        with first.app_context():
            ratelimit.reset()


def test_the_ward_scenario_holds_with_redis(limited_app):
    redis_or_skip()
    app = limited_app(RATELIMIT_STORAGE_URI=REDIS_URL)
    try:
        ward = build_ward(app)
        with app.app_context():
            ratelimit.reset()
        typo_tablet, other_tablet = Patient(app.test_client()), Patient(app.test_client())
        assert [typo_tablet.start("ACDEF-HJKMN").status_code for _ in range(6)][-1] == 429
        assert other_tablet.start(ward.code).status_code == 303
    finally:
        with app.app_context():
            ratelimit.reset()


def test_limits_are_off_in_the_test_profile_by_default(app):
    with app.app_context():
        assert all(ratelimit.attempt(("x", "y", "1 per hour")).allowed for _ in range(3))
