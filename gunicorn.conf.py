"""gunicorn settings for this app (`make serve` uses them: gunicorn -c gunicorn.conf.py wsgi:app).

Anything here can be changed per host without editing the file: gunicorn's own command-line options
win over it, and so does the GUNICORN_CMD_ARGS environment variable (e.g. `--certfile/--keyfile` to
serve TLS directly). `python gunicorn.conf.py` checks the settings without starting anything
(`make serve` does, first: gunicorn itself would give a traceback for a WEB_CONCURRENCY typo).

Workers and threads. A request here is mostly Python work (routing, the ORM, Jinja) with short waits on
the database: a commit's fsync on SQLite, a network round trip to PostgreSQL. One process runs Python
on one core at a time, so it takes one worker per core to use the machine; a few threads per worker
fill the database waits and keep one slow phone from holding a whole worker. More threads than that
only queue on the interpreter lock and grow the database pool. Default: 2 workers per core
(at least 2, so one crashing or restarting worker never leaves the server without one) and 4 threads
each; see the README's Deployment section for the measurement behind it. `WEB_CONCURRENCY` and
`GUNICORN_THREADS` override them.

Binding. Loopback by default (`127.0.0.1:8000`, or `127.0.0.1:$PORT`): the app is meant to be reached
through a reverse proxy that terminates TLS, and a port open to the network next to that proxy would
let anyone send a forged `X-Forwarded-For` and slip past the rate limits. `BIND` sets anything else
(`0.0.0.0:8000`, `unix:/run/quiz/gunicorn.sock`).
"""
import multiprocessing
import os
import sys

from flask.cli import load_dotenv

# The same files the `flask` commands read (.env, then .flaskenv; the real environment wins), so
# `make serve` and `flask db upgrade` never disagree. .flaskenv sets no QUIZ_ENV: see the README.
load_dotenv()

from quiz.config import ConfigError, load_config  # noqa: E402  (after the environment is complete)

try:
    load_config()  # fail here, in one line, before any worker starts
except ConfigError as error:
    sys.exit(f"Configuration error: {error}")


def _env_count(name: str, default: int) -> int:
    raw = os.environ.get(name) or str(default)
    if not raw.isdigit() or int(raw) < 1:
        sys.exit(f"Configuration error: {name} must be a whole number of at least 1, got {raw!r}")
    return int(raw)


wsgi_app = "wsgi:app"
bind = [os.environ.get("BIND") or f"127.0.0.1:{os.environ.get('PORT') or 8000}"]
worker_class = "gthread"
workers = _env_count("WEB_CONCURRENCY", max(2, 2 * multiprocessing.cpu_count()))
threads = _env_count("GUNICORN_THREADS", 4)
# A worker that does not answer in this time is restarted (a stuck request, a lost database).
timeout = 30
graceful_timeout = 30
keepalive = 5
# Proxy headers are the app's business (PROXY_HOPS), in one place: gunicorn trusts none itself.
forwarded_allow_ips = ""
# gunicorn 27 opens a control socket in the home folder by default; the app does not use it.
control_socket_disable = True

accesslog = "-"
errorlog = "-"
# Redacts access codes (the /start/<code> links, and the Referer of the page they opened).
logger_class = "quiz.logsafety.GunicornLogger"
