"""Rate limits for guessing: access-code attempts on the patient start page and staff sign-in.

**Count first, then decide.** Every attempt increments its counters *before* the code or password
is checked (an atomic INCR in the storage), and is refused when a counter is then over its limit.
Two simultaneous requests can never both slip under a limit, as they can when a limit is checked
first and counted after. A successful attempt gives its count back (`refund`), so the limits count
failures: a nurse signing in ten times a shift, or a ward of patients starting their quiz, uses none
of them. Refused attempts count too, so hammering a limit keeps it shut.

**Sliding window.** Each limit ("20 per hour") keeps a counter per fixed window and weighs the
previous window's count by how much of it still overlaps the last hour, as in Cloudflare's and
`limits`' sliding-window counters: no burst of twice the limit at a window boundary, two counters
per limit. `retry_after` is the time until one more attempt would pass.

**Storage** is `RATELIMIT_STORAGE_URI` through the `limits` package: `memory://` (one process: fine
for `make run`, wrong with several workers) or `redis://host:port/db`, shared by every worker and
server. Limits are off when `RATELIMIT_ENABLED` is false (the test profile; tests turn them on).

**Who is counted** (`PROXY_HOPS` decides what the client address is):
* Code attempts: per device (the browser's session: a patient mistyping on one tablet slows only that
  tablet) and per address (the ceiling for someone who clears cookies between guesses). A ward's
  tablets often share one address, so the address limit sits far above honest use (see the README for
  the numbers and the odds of guessing a code).
* Staff sign-in: per account (whatever name was typed, so it says nothing about which accounts exist)
  and per address.
"""
from __future__ import annotations

import hashlib
import math
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass, field

from flask import Flask, current_app
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, Storage, storage_from_string

EXTENSION = "quiz_ratelimit"
# `limits`' memory storage reads the counter back after releasing its lock (two threads can both see
# the later value) and drops a new key's lock on first use, so in one process we serialise its use.
# Redis increments and returns the new value in one server-side script: no lock needed there.
_MEMORY_LOCK = threading.Lock()


@dataclass
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds until one more attempt would pass (when refused)
    # The counters this attempt incremented, for `refund`.
    counted: list[tuple[str, int]] = field(default_factory=list)

    @property
    def retry_minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))


def init_app(app: Flask) -> None:
    # Made once per app (a Redis client connects lazily, on first use).
    app.extensions[EXTENSION] = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])


def storage() -> Storage:
    return current_app.extensions[EXTENSION]


def _counter_key(name: str, ident: str, limit: RateLimitItem, window: int) -> str:
    # Identities (addresses, usernames, session keys) are hashed: the storage never holds them plainly.
    digest = hashlib.sha256(ident.encode("utf-8")).hexdigest()[:32]
    return f"quiz/{name}/{digest}/{limit.amount}-per-{limit.get_expiry()}/{window}"


def attempt(*checks: tuple[str, str, str], now: float | None = None) -> Verdict:
    """Count one attempt against every (name, identity, limits) check, then decide.

    `limits` is a string such as "5 per minute;20 per hour". Returns a Verdict; refused when any
    counter is over its limit after counting.
    """
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return Verdict(True)
    store = storage()
    now = time.time() if now is None else now
    verdict = Verdict(True)
    with _guard(store):
        _count(store, checks, now, verdict)
    return verdict


def _guard(store: Storage):
    return _MEMORY_LOCK if isinstance(store, MemoryStorage) else nullcontext()


def _count(store: Storage, checks, now: float, verdict: Verdict) -> None:
    for name, ident, spec in checks:
        for limit in parse_many(spec):
            length = limit.get_expiry()
            window = int(now // length)
            key = _counter_key(name, ident, limit, window)
            current = store.incr(key, 2 * length)  # kept through the next window, which weighs it
            previous = store.get(_counter_key(name, ident, limit, window - 1))
            elapsed = (now % length) / length
            verdict.counted.append((key, 2 * length))
            if previous * (1 - elapsed) + current > limit.amount:
                verdict.allowed = False
                verdict.retry_after = max(verdict.retry_after,
                                          _wait(previous, current, limit.amount, length, now))


def _wait(previous: int, current: int, allowed: int, length: int, now: float) -> int:
    """Seconds until previous * (1 - elapsed) + current + 1 <= allowed, counting no more attempts."""
    into = now % length
    if current + 1 <= allowed:  # the old window's weight has to fade enough, within this window
        needed = 1 - (allowed - current - 1) / previous
        return max(1, math.ceil(needed * length - into))
    # This window is over the limit by itself: it has to become the "previous" one and fade.
    needed = 1 - (allowed - 1) / current if current else 0
    return max(1, math.ceil(length - into + needed * length))


def refund(verdict: Verdict) -> None:
    """Give back what a successful attempt counted (the limits count failures)."""
    if not verdict.counted:
        return
    store = storage()
    with _guard(store):
        for key, expiry in verdict.counted:
            store.incr(key, expiry, amount=-1)
    verdict.counted = []


def reset() -> None:
    """Forget every counter (tests; an admin unlocking after an incident)."""
    storage().reset()
