"""Configuration for deployment: DATABASE_URL checked before anything connects, safe defaults, and the
decision that `.flaskenv` never picks development settings."""
from __future__ import annotations

from pathlib import Path

import pytest

from quiz.config import ConfigError, database_url, load_config

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("raw, expected", [
    ("postgres://u:pw@db.example:5432/quiz", "postgresql+psycopg://u:pw@db.example:5432/quiz"),
    ("postgresql://u@db.example/quiz", "postgresql+psycopg://u@db.example/quiz"),
    ("postgresql+psycopg://u@db.example/quiz", "postgresql+psycopg://u@db.example/quiz"),
    ("sqlite://", "sqlite://"),
])
def test_database_urls_name_the_installed_driver(raw, expected):
    assert database_url(raw) == expected


@pytest.mark.parametrize("raw, message", [
    ("not a url", "is not a database URL"),
    ("oracle+nodriver://x/y", "unknown kind of database"),
    ("mysql://user:hunter2@db/quiz", "needs a driver that is not installed"),
    ("sqlite:////no/such/folder/quiz.sqlite3", "folder that does not exist: /no/such/folder"),
])
def test_unusable_database_urls_are_one_clear_error(raw, message):
    with pytest.raises(ConfigError, match=message) as caught:
        database_url(raw)
    assert "hunter2" not in str(caught.value)


def test_the_default_sqlite_folder_is_created(tmp_path):
    folder = tmp_path / "instance"
    url = database_url(f"sqlite:///{folder / 'quiz.sqlite3'}", own_folder=folder)
    assert folder.is_dir() and url.endswith("quiz.sqlite3")


@pytest.mark.parametrize("name, value, message", [
    ("HSTS_SECONDS", "-1", "HSTS_SECONDS must be zero or more"),
    ("MAX_CONTENT_LENGTH", "64k", "MAX_CONTENT_LENGTH must be a whole number"),
    ("SQLITE_JOURNAL_MODE", "memory", "SQLITE_JOURNAL_MODE must be WAL or DELETE"),
])
def test_deployment_settings_are_checked(monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        load_config({"QUIZ_ENV": "testing"})


def test_production_defaults(monkeypatch):
    for name in ("HSTS_SECONDS", "MAX_CONTENT_LENGTH"):
        monkeypatch.delenv(name, raising=False)
    config = load_config({"QUIZ_ENV": "production", "SECRET_KEY": "k" * 32})
    assert config["SQLALCHEMY_ENGINE_OPTIONS"]["hide_parameters"] is True
    assert config["SESSION_COOKIE_SECURE"] is True and config["PREFERRED_URL_SCHEME"] == "https"
    assert config["HSTS_SECONDS"] >= 180 * 24 * 3600
    assert config["MAX_CONTENT_LENGTH"] == config["MAX_FORM_MEMORY_SIZE"] == 64 * 1024


def test_flaskenv_never_chooses_the_environment_or_a_secret():
    """A server started from a checkout must never get development settings (demo data, a public
    secret) because a file in the repository said so: .flaskenv names the app, nothing else."""
    settings = dict(
        line.split("=", 1) for line in (PROJECT_ROOT / ".flaskenv").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    assert settings == {"FLASK_APP": "wsgi"}
