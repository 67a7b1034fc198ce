"""Keeping access codes out of logs.

A patient's code opens their quiz, so it is a credential: it must not sit in an access log, an error
log or a proxy's log. It travels in one URL form, the printed link `/start/<code>`, and from a page
opened by that link it also rides in the `Referer` header of the next requests (the app sends
`Referrer-Policy: same-origin`, so only to itself). `redact_codes` replaces the code in any logged text,
percent-encoded or not; the gunicorn logger and a filter for Flask's and werkzeug's loggers apply it.
Form posts (where codes are typed) are never logged.
"""
from __future__ import annotations

import logging
import re

from gunicorn import glogging

CODE_IN_LINK = re.compile(r"(/start/)[^\s?#\"']+", re.IGNORECASE)
REDACTED = r"\1[code]"


ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")


def _unescape_path_characters(text: str) -> str:
    """Decode the escapes a router would read as path characters (`%73tart`, `%2F`), and only those:
    an escaped space or quote stays escaped, so the code after `/start/` is still one token."""
    def decode(match: re.Match) -> str:
        char = chr(int(match.group(1), 16))
        return char if char.isascii() and (char.isalnum() or char in "/-_.~") else match.group(0)

    return ESCAPE.sub(decode, text)


def redact_codes(value):
    """`value` with every `/start/<code>` turned into `/start/[code]` (non-strings pass unchanged)."""
    if not isinstance(value, str):
        return value
    readable = _unescape_path_characters(value) if "%" in value else value
    if "/start/" not in readable.lower():
        return value  # the common case, left exactly as it was
    return CODE_IN_LINK.sub(REDACTED, readable)


class RedactCodes(logging.Filter):
    """A logging filter that redacts codes in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact_codes(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_codes(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: redact_codes(arg) for key, arg in record.args.items()}
        return True


def install_filter(logger: logging.Logger) -> None:
    if not any(isinstance(f, RedactCodes) for f in logger.filters):
        logger.addFilter(RedactCodes())


class GunicornLogger(glogging.Logger):
    """gunicorn's logger with codes redacted from every access-log field (request line, path, query,
    Referer, any header or environ value a custom format names) and from the error log."""

    def setup(self, cfg):
        super().setup(cfg)
        install_filter(self.error_log)

    def atoms(self, resp, req, environ, request_time):
        return {key: redact_codes(value) for key, value in super().atoms(resp, req, environ, request_time).items()}
