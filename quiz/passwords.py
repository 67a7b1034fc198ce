"""Staff passwords: argon2id hashes (argon2-cffi), the rules a new password must meet, and verification
that takes as long for an unknown account as for a known one.

Production uses RFC 9106's low-memory profile (argon2id, t=3, 64 MiB); the test profile uses the
cheapest parameters so that the suite stays fast (`PASSWORD_HASH_PROFILE`). A hash made with other
parameters is upgraded at the next successful sign-in.
"""
from __future__ import annotations

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

MIN_LENGTH = 12
MAX_LENGTH = 128


class PasswordRuleError(ValueError):
    pass


def hasher() -> PasswordHasher:
    return PasswordHasher.from_parameters(getattr(profiles, current_app.config["PASSWORD_HASH_PROFILE"]))


def check_rules(password: str, username: str = "") -> None:
    """Length is what makes a password strong (NIST SP 800-63B): at least 12 characters, any kind."""
    if len(password) < MIN_LENGTH:
        raise PasswordRuleError(f"the password must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordRuleError(f"the password can have at most {MAX_LENGTH} characters")
    if username and username.lower() in password.lower():
        raise PasswordRuleError("the password must not contain the username")
    if len(set(password)) < 4:
        raise PasswordRuleError("the password repeats too few different characters")


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches. With no stored hash (unknown user) a dummy hash is still
    verified, so a wrong username and a wrong password take the same time."""
    ph = hasher()
    target = stored_hash or current_app.extensions.setdefault("quiz_dummy_hash", ph.hash("not a password"))
    try:
        ph.verify(target, password)
    except (VerificationError, InvalidHashError):
        return False
    return stored_hash is not None


def needs_rehash(stored_hash: str) -> bool:
    return hasher().check_needs_rehash(stored_hash)
