import pytest

from quiz import create_app
from quiz.config import ConfigError, load_config


def test_production_is_the_default_and_needs_a_secret_key(monkeypatch):
    monkeypatch.delenv("QUIZ_ENV", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY must be set"):
        create_app()


def test_production_never_allows_demo_data(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    config = load_config({"QUIZ_ENV": "production", "DEMO_DATA_ALLOWED": True})
    assert config["DEMO_DATA_ALLOWED"] is False
    assert config["SESSION_COOKIE_SECURE"] is True


def test_development_allows_demo_data_and_uses_sqlite(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = load_config({"QUIZ_ENV": "development"})
    assert config["DEMO_DATA_ALLOWED"] is True
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")


def test_unknown_environment_is_refused():
    with pytest.raises(ConfigError, match="QUIZ_ENV"):
        load_config({"QUIZ_ENV": "staging"})


def test_numbers_from_the_environment_are_checked(monkeypatch):
    monkeypatch.setenv("ASSIGNMENT_VALID_DAYS", "two weeks")
    with pytest.raises(ConfigError, match="ASSIGNMENT_VALID_DAYS must be a whole number"):
        load_config({"QUIZ_ENV": "testing"})


def test_proxy_hops_make_the_rate_limit_see_the_patients_address(monkeypatch):
    from quiz import create_app

    app = create_app({"QUIZ_ENV": "testing", "PROXY_HOPS": 1})
    seen = {}

    @app.get("/whoami")
    def whoami():
        from flask import request
        seen["addr"] = request.remote_addr
        return ""

    app.test_client().get("/whoami", headers={"X-Forwarded-For": "10.1.2.3"},
                          environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert seen["addr"] == "10.1.2.3"


def test_access_code_key_defaults_to_the_secret_key(monkeypatch):
    monkeypatch.delenv("ACCESS_CODE_KEY", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    assert load_config({"QUIZ_ENV": "testing"})["ACCESS_CODE_KEY"] == "testing-only-not-secret"


@pytest.mark.parametrize("name, value, message", [
    ("DISPLAY_TIMEZONE", "Mars/Olympus", "DISPLAY_TIMEZONE must be a time zone name"),
    ("CODE_ATTEMPTS_PER_DEVICE", "lots", "CODE_ATTEMPTS_PER_DEVICE must look like"),
    ("STAFF_IDLE_MINUTES", "0", "STAFF_IDLE_MINUTES must be at least 1"),
])
def test_staff_settings_are_checked_at_start(monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        load_config({"QUIZ_ENV": "testing"})


def test_staff_defaults(monkeypatch):
    for name in ("STAFF_IDLE_MINUTES", "CODE_ATTEMPTS_PER_DEVICE", "DISPLAY_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    config = load_config({"QUIZ_ENV": "production"})
    assert config["STAFF_IDLE_MINUTES"] == 15 and config["PASSWORD_HASH_PROFILE"] == "RFC_9106_LOW_MEMORY"
    assert config["CODE_ATTEMPTS_PER_DEVICE"] == "5 per minute;20 per hour"
