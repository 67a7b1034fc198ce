"""Configuration: safe defaults, overridden from the environment.

`QUIZ_ENV` picks the profile: `production` (the default, so that forgetting to set it can never expose
demo data or a development secret), `development` (what `make run` uses) or `testing`.
"""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

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


def _env_nonnegative(name: str, default: int) -> int:
    value = _env_int(name, default)
    if value < 0:
        raise ConfigError(f"{name} must be zero or more, got {value}")
    return value


def database_url(raw: str, own_folder: Path | None = None) -> str:
    """Check DATABASE_URL before anything connects, so a typo is one clear line, not a traceback.

    `postgres://` and `postgresql://` (the forms hosting services print) mean the psycopg 3 driver this
    project installs; psycopg2, SQLAlchemy's default for them, is not installed. A password in the URL
    is never repeated in a message. `own_folder` (the app's instance folder) is created when the
    SQLite file is to live there; any other folder must exist.
    """
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(
            "DATABASE_URL is not a database URL (expected sqlite:///path/to/file.sqlite3 or "
            "postgresql://user@host:5432/name)"
        ) from None
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    shown = url.render_as_string(hide_password=True)
    try:
        dialect = url.get_dialect()
        dialect.import_dbapi()
    except NoSuchModuleError:
        raise ConfigError(
            f"DATABASE_URL names an unknown kind of database: {shown} (use sqlite:/// or postgresql://)"
        ) from None
    except ImportError as error:
        raise ConfigError(f"DATABASE_URL {shown} needs a driver that is not installed ({error.name})") from None
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        folder = Path(url.database).expanduser().resolve().parent
        if own_folder is not None and folder == own_folder.resolve():
            folder.mkdir(parents=True, exist_ok=True)
        if not folder.is_dir():
            raise ConfigError(f"DATABASE_URL points into a folder that does not exist: {folder}")
    return url.render_as_string(hide_password=False)


def load_config(overrides: dict | None = None) -> dict:
    """Build the config mapping for `create_app` from defaults, the environment and `overrides`."""
    overrides = dict(overrides or {})
    env_name = overrides.get("QUIZ_ENV") or os.environ.get("QUIZ_ENV", "production")
    if env_name not in {"production", "development", "testing"}:
        raise ConfigError(f"QUIZ_ENV must be production, development or testing, got {env_name!r}")

    instance = PROJECT_ROOT / "instance"
    body_limit = _env_nonnegative("MAX_CONTENT_LENGTH", 64 * 1024) or None
    config: dict = {
        "QUIZ_ENV": env_name,
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": os.environ.get(
            "DATABASE_URL", f"sqlite:///{instance / 'quiz.sqlite3'}"
        ),
        # hide_parameters: a failing statement's values (which answer a patient chose, whether it was
        # right) never reach an exception message, so never a log.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
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
        # Served over HTTPS (directly or through a proxy that says so), browsers are told to use only
        # HTTPS for this long (Strict-Transport-Security). 0 turns the header off.
        "HSTS_SECONDS": _env_nonnegative("HSTS_SECONDS", 365 * 24 * 3600),
        # The largest request body accepted (413 above it). Patient forms are a few hundred bytes.
        "MAX_CONTENT_LENGTH": body_limit,
        "MAX_FORM_MEMORY_SIZE": body_limit,
        # SQLite waits this long for another writer before giving up (WAL lets readers go on meanwhile).
        "SQLITE_BUSY_TIMEOUT_MS": _env_nonnegative("SQLITE_BUSY_TIMEOUT_MS", 10_000),
        # WAL unless the database sits on a file system without shared memory (NFS): then DELETE.
        "SQLITE_JOURNAL_MODE": os.environ.get("SQLITE_JOURNAL_MODE", "WAL").upper(),
        # FULL: every commit is on disk before the patient is told it is saved, even through a power
        # cut. NORMAL (WAL only) skips the per-commit fsync: several times the write rate, and a
        # power cut or OS crash may lose the last commits (an application crash loses nothing).
        "SQLITE_SYNCHRONOUS": os.environ.get("SQLITE_SYNCHRONOUS", "FULL").upper(),
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
    if config["SQLITE_JOURNAL_MODE"] not in {"WAL", "DELETE"}:
        raise ConfigError(f"SQLITE_JOURNAL_MODE must be WAL or DELETE, got {config['SQLITE_JOURNAL_MODE']!r}")
    if config["SQLITE_SYNCHRONOUS"] not in {"FULL", "NORMAL"}:
        raise ConfigError(f"SQLITE_SYNCHRONOUS must be FULL or NORMAL, got {config['SQLITE_SYNCHRONOUS']!r}")
    if config["SQLITE_SYNCHRONOUS"] == "NORMAL" and config["SQLITE_JOURNAL_MODE"] != "WAL":
        raise ConfigError("SQLITE_SYNCHRONOUS=NORMAL needs SQLITE_JOURNAL_MODE=WAL (it can corrupt a DELETE-mode database)")
    if isinstance(config["SQLALCHEMY_DATABASE_URI"], str):
        config["SQLALCHEMY_DATABASE_URI"] = database_url(config["SQLALCHEMY_DATABASE_URI"], instance)
    config.setdefault("ACCESS_CODE_KEY", os.environ.get("ACCESS_CODE_KEY") or config["SECRET_KEY"])
    _check_staff_settings(config)
    if config["QUIZ_ENV"] == "production":
        if not config.get("SECRET_KEY"):
            raise ConfigError("SECRET_KEY must be set in production (QUIZ_ENV=production).")
        config["DEMO_DATA_ALLOWED"] = False
        config.setdefault("PREFERRED_URL_SCHEME", "https")
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
