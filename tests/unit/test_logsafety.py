"""Access codes never reach a log: the gunicorn access log, the error log, Flask's and werkzeug's."""
from __future__ import annotations

import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from quiz.logsafety import GunicornLogger, RedactCodes, redact_codes


@pytest.mark.parametrize("text", [
    "GET /start/ABCD-EFGH HTTP/1.1",
    "GET /start/abcd%20efgh?x=1 HTTP/1.1",
    "GET /%73tart/ABCD%2DEFGH HTTP/1.1",
    "GET /start%2FABCDEFGH HTTP/1.1",
    "https://quiz.example/START/ABCD-EFGH",
])
def test_codes_in_links_are_redacted(text):
    redacted = redact_codes(text)
    assert "/start/[code]" in redacted.lower().replace("[CODE]", "[code]")
    assert "ABCD" not in redacted.upper().replace("[CODE]", "")
    assert "EFGH" not in redacted.upper()


def test_other_text_is_left_alone():
    for text in ("GET /quiz/stopping-safely HTTP/1.1", "100% sure", "/starting/x", 42, None):
        assert redact_codes(text) == text


def test_log_filter_redacts_message_and_arguments(caplog):
    logger = logging.getLogger("test.logsafety")
    logger.addFilter(RedactCodes())
    with caplog.at_level(logging.INFO, logger="test.logsafety"):
        logger.info('"%s" %s', "GET /start/WXYZ-2345 HTTP/1.1", 200)
        logger.info("opened /start/WXYZ-2345")
    assert "WXYZ" not in caplog.text and caplog.text.count("/start/[code]") == 2


def test_gunicorn_access_log_fields_are_redacted():
    logger = GunicornLogger(Config())
    environ = {
        "REQUEST_METHOD": "GET", "RAW_URI": "/start/WXYZ-2345", "PATH_INFO": "/start/WXYZ-2345",
        "QUERY_STRING": "", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": "https://quiz.example/start/WXYZ-2345",
    }
    response = SimpleNamespace(status="200 OK", headers=[], sent=10)
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"]), ("HOST", "quiz.example")])
    atoms = logger.atoms(response, request, environ, timedelta(milliseconds=5))
    assert not [key for key, value in atoms.items() if isinstance(value, str) and "WXYZ" in value]
    assert atoms["r"] == "GET /start/[code] HTTP/1.1" and atoms["f"].endswith("/start/[code]")


def test_escaped_text_without_a_code_is_logged_as_it_came():
    assert redact_codes("GET /quiz/%41bc HTTP/1.1") == "GET /quiz/%41bc HTTP/1.1"
