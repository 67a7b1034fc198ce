"""Configuration: safe defaults, overridden from the environment.

`QUIZ_ENV` picks the profile: `production` (the default, so that forgetting to set it can never expose
demo data or a development secret), `development` (what `make run` uses) or `testing`.
"""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """The configuration cannot be used safely; the app refuses to start."""


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def load_config(overrides: dict | None = None) -> dict:
    """Build the config mapping for `create_app` from defaults, the environment and `overrides`."""
    overrides = dict(overrides or {})
    env_name = overrides.get("QUIZ_ENV") or os.environ.get("QUIZ_ENV", "production")
    if env_name not in {"production", "development", "testing"}:
        raise ConfigError(f"QUIZ_ENV must be production, development or testing, got {env_name!r}")

    instance = PROJECT_ROOT / "instance"
    config: dict = {
        "QUIZ_ENV": env_name,
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": os.environ.get(
            "DATABASE_URL", f"sqlite:///{instance / 'quiz.sqlite3'}"
        ),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "QUESTIONS_DIR": os.environ.get("QUESTIONS_DIR", str(PROJECT_ROOT / "questions")),
        # How long a patient's access code stays valid after a nurse creates it.
        "ASSIGNMENT_VALID_DAYS": _env_int("ASSIGNMENT_VALID_DAYS", 14),
        # The patient's browser keeps its place for this long; the code always works again.
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_env_int("SESSION_HOURS", 12)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env_name == "production",
        "WTF_CSRF_TIME_LIMIT": None,  # no time limits for patients: the token lives as long as the session
        # Rate limits: in memory by default; RATELIMIT_STORAGE_URI=redis://... shares them across workers.
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "DEMO_DATA_ALLOWED": env_name == "development",
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", ""),
        # Number of trusted reverse proxies in front of the app. Behind one, set it to 1 so the rate
        # limit sees each patient's address instead of the proxy's (which would lock everyone out).
        "PROXY_HOPS": _env_int("PROXY_HOPS", 0),
        # Deployment words shown to patients: the number to call in an emergency (bank text says
        # `{emergency_number}`, see quiz/bank/placeholders.py) and how to reach the hospital.
        "EMERGENCY_NUMBER": os.environ.get("EMERGENCY_NUMBER", "911"),
        "HOSPITAL_CONTACT": os.environ.get("HOSPITAL_CONTACT", ""),
        # --- Staff workspace and sessions (issue 6) ---
        # A staff session ends after this many minutes without activity (shared bedside devices).
        "STAFF_IDLE_MINUTES": _env_int("STAFF_IDLE_MINUTES", 15),
        # Access-code attempts (quiz.ratelimit): per device, and per address for a whole ward.
        "CODE_ATTEMPTS_PER_DEVICE": os.environ.get("CODE_ATTEMPTS_PER_DEVICE", "5 per minute;20 per hour"),
        "CODE_ATTEMPTS_PER_ADDRESS": os.environ.get("CODE_ATTEMPTS_PER_ADDRESS", "60 per minute;300 per hour"),
        "SIGN_IN_ATTEMPTS_PER_ACCOUNT": os.environ.get("SIGN_IN_ATTEMPTS_PER_ACCOUNT", "5 per 15 minutes;20 per day"),
        "SIGN_IN_ATTEMPTS_PER_ADDRESS": os.environ.get("SIGN_IN_ATTEMPTS_PER_ADDRESS", "30 per 15 minutes;200 per day"),
        "PASSWORD_HASH_PROFILE": "RFC_9106_LOW_MEMORY",  # argon2id, t=3, 64 MiB
        # How often an open patient list asks whether anything changed.
        "NURSE_POLL_SECONDS": _env_int("NURSE_POLL_SECONDS", 5),
        # Times on staff pages and records are shown in this zone (an IANA name, e.g. Europe/London).
        "DISPLAY_TIMEZONE": os.environ.get("DISPLAY_TIMEZONE", "UTC"),
        # Printed on the education record (the bank does not name its medicine yet).
        "MEDICINE_NAME": os.environ.get("MEDICINE_NAME", "baclofen"),
    }
    if env_name == "development":
        config["SECRET_KEY"] = config["SECRET_KEY"] or "dev-only-not-secret"
    if env_name == "testing":
        config.update(
            SECRET_KEY=config["SECRET_KEY"] or "testing-only-not-secret",
            TESTING=True,
            SQLALCHEMY_DATABASE_URI=os.environ.get("TEST_DATABASE_URL", "sqlite://"),
            RATELIMIT_ENABLED=False,
            PASSWORD_HASH_PROFILE="CHEAPEST",
        )
    config.update(overrides)
    config.setdefault("ACCESS_CODE_KEY", os.environ.get("ACCESS_CODE_KEY") or config["SECRET_KEY"])
    _check_staff_settings(config)
    if config["QUIZ_ENV"] == "production":
        if not config.get("SECRET_KEY"):
            raise ConfigError("SECRET_KEY must be set in production (QUIZ_ENV=production).")
        config["DEMO_DATA_ALLOWED"] = False
    return config


def _check_staff_settings(config: dict) -> None:
    """Staff workspace settings that would otherwise fail only when a page uses them."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from limits import parse_many

    try:
        ZoneInfo(config["DISPLAY_TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"DISPLAY_TIMEZONE must be a time zone name such as Europe/London, "
                          f"got {config['DISPLAY_TIMEZONE']!r}") from exc
    for name in ("CODE_ATTEMPTS_PER_DEVICE", "CODE_ATTEMPTS_PER_ADDRESS", "SIGN_IN_ATTEMPTS_PER_ACCOUNT",
                 "SIGN_IN_ATTEMPTS_PER_ADDRESS"):
        try:
            parse_many(config[name])
        except ValueError as exc:
            raise ConfigError(f"{name} must look like '5 per minute;20 per hour', got {config[name]!r}") from exc
    if config["STAFF_IDLE_MINUTES"] < 1:
        raise ConfigError("STAFF_IDLE_MINUTES must be at least 1")
