"""Configuration: safe defaults, overridden from the environment.

`QUIZ_ENV` picks the profile: `production` (the default, so that forgetting to set it can never expose
demo data or a development secret), `development` (what `make run` uses) or `testing`.
"""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
        "CODE_ATTEMPTS_LIMIT": os.environ.get("CODE_ATTEMPTS_LIMIT", "10 per minute;60 per hour"),
        "DEMO_DATA_ALLOWED": env_name == "development",
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", ""),
        # Number of trusted reverse proxies in front of the app. Behind one, set it to 1 so the rate
        # limit sees each patient's address instead of the proxy's (which would lock everyone out).
        "PROXY_HOPS": _env_int("PROXY_HOPS", 0),
        # Deployment words shown to patients: the number to call in an emergency (bank text says
        # `{emergency_number}`, see quiz/bank/placeholders.py) and how to reach the hospital.
        "EMERGENCY_NUMBER": os.environ.get("EMERGENCY_NUMBER", "911"),
        "HOSPITAL_CONTACT": os.environ.get("HOSPITAL_CONTACT", ""),
        # The hospital's time zone (an IANA name such as Europe/London): the date on a patient's summary.
        "TIMEZONE": os.environ.get("TIMEZONE", "UTC"),
    }
    if env_name == "development":
        config["SECRET_KEY"] = config["SECRET_KEY"] or "dev-only-not-secret"
    if env_name == "testing":
        config.update(
            SECRET_KEY=config["SECRET_KEY"] or "testing-only-not-secret",
            TESTING=True,
            SQLALCHEMY_DATABASE_URI=os.environ.get("TEST_DATABASE_URL", "sqlite://"),
            RATELIMIT_ENABLED=False,
        )
    config.update(overrides)
    config.setdefault("ACCESS_CODE_KEY", os.environ.get("ACCESS_CODE_KEY") or config["SECRET_KEY"])
    if config["TIMEZONE"] != "UTC":  # UTC needs no time zone database
        try:
            ZoneInfo(config["TIMEZONE"])
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(
                f"TIMEZONE must be a time zone name such as Europe/London, got {config['TIMEZONE']!r}"
            ) from exc
    if config["QUIZ_ENV"] == "production":
        if not config.get("SECRET_KEY"):
            raise ConfigError("SECRET_KEY must be set in production (QUIZ_ENV=production).")
        config["DEMO_DATA_ALLOWED"] = False
    return config
