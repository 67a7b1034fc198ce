"""Patient-education quiz: application factory."""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, abort, render_template, request
from flask_wtf.csrf import CSRFError
from jinja2 import StrictUndefined
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from . import assets, database
from .bank import placeholders
from .config import PROJECT_ROOT, load_config
from .extensions import csrf, db, limiter, login_manager, migrate
from .logsafety import install_filter, redact_codes

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


class DatabaseId(IntegerConverter):
    """`<int:id>` in a URL: 0 to 2**31 - 1, the range of an INTEGER column on PostgreSQL. A larger
    number cannot name a row; without this bound it reached the database and failed there (an
    overflow on SQLite, "integer out of range" on PostgreSQL): a 500 instead of a 404."""

    def __init__(self, map, fixed_digits=0, min=None, max=2**31 - 1, signed=False):  # noqa: A002 (werkzeug's names)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    app.config.from_mapping(load_config(config))
    if app.config["PROXY_HOPS"]:
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    if app.config["TESTING"]:
        app.jinja_env.undefined = StrictUndefined
    _fill_placeholders_in_templates(app)
    # Before any route is added: `<int:...>` in every blueprint, present and future, is a database id.
    app.url_map.converters["int"] = DatabaseId
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    database.configure_engine(app)
    assets.init_app(app)
    for logger in (app.logger, logging.getLogger("werkzeug")):
        install_filter(logger)  # access codes never reach a log
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)

    from . import cli
    from .health import bp as health_bp
    from .patient.routes import bp as patient_bp
    from .site import bp as site_bp
    from .sources.routes import bp as sources_bp

    app.register_blueprint(patient_bp)
    app.register_blueprint(sources_bp)
    _init_staff_workspace(app)
    app.register_blueprint(health_bp)
    app.register_blueprint(site_bp)
    cli.init_app(app)
    _register_error_pages(app)

    @app.before_request
    def refuse_unreadable_input():
        # No form here takes a file: Flask-WTF would hand an uploaded file to a text field as if it
        # were text (a 500 in the field's validators). No text here has a NUL character in it, and
        # PostgreSQL refuses one in any string it is given, stored or compared (a 500 again, on
        # PostgreSQL only). Both stop here, for every route present and future, with a clear 400.
        if request.method == "POST" and request.files:
            abort(400)
        if "\x00" in request.path or any("\x00" in key or "\x00" in value
                                          for data in (request.args, request.form)
                                          for key, value in data.items(multi=True)):
            abort(400)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # Access codes travel in links: never leak a URL to another site. Same-origin requests keep
        # their Referer, which Flask-WTF's strict CSRF check requires of every HTTPS POST.
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.is_secure and app.config["HSTS_SECONDS"]:
            response.headers.setdefault("Strict-Transport-Security", f"max-age={app.config['HSTS_SECONDS']}")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response

    return app


def _fill_placeholders_in_templates(app: Flask) -> None:
    """Every plain string a template prints has the deployment's values put in for bank placeholders
    (`{emergency_number}`), on every page, patient or staff: no template can forget to. Markup (already
    rendered HTML) is left alone; only the exact known placeholders are replaced."""
    values = placeholders.values_from_config(app.config)

    def finalize(value):
        if type(value) is str and "{" in value:
            return placeholders.fill(value, values)
        return value

    app.jinja_env.finalize = finalize


def _init_staff_workspace(app: Flask) -> None:
    """Server-side sessions, staff sign-in, rate limits, the nurse pages and the admin pages (`/admin`)."""
    from . import ratelimit, sessions
    from .admin.routes import bp as admin_bp
    from .auth.routes import bp as auth_bp
    from .auth.routes import init_login
    from .nurse.routes import bp as nurse_bp
    from .reports.routes import bp as reports_bp

    sessions.init_app(app)
    login_manager.init_app(app)
    init_login(login_manager)
    ratelimit.init_app(app)
    app.register_blueprint(auth_bp)
    app.register_blueprint(nurse_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(reports_bp)


def _register_error_pages(app: Flask) -> None:
    def page(status: int, title: str, message: str):
        return render_template("error.html", title=title, message=message), status

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        app.logger.warning("CSRF refused on %s: %s", redact_codes(request.path), error.description)
        return page(
            400, "Please try again",
            "This page was open for a long time, so we could not save that step. Nothing you "
            "answered before is lost. Go back to the start and enter your code to carry on.",
        )

    @app.errorhandler(400)
    def bad_request(error):
        return page(400, "We could not read that", "This page sent something the quiz cannot read, so "
                    "nothing was saved. Go back to the start page to carry on.")

    @app.errorhandler(403)
    def forbidden(error):
        return page(403, "Not for this account",
                    "This page is for administrators. If you need it, ask an administrator to change your role.")

    @app.errorhandler(404)
    def not_found(error):
        return page(404, "Page not found", "We could not find that page.")

    @app.errorhandler(405)
    def method_not_allowed(error):
        return page(405, "Page not found", "We could not find that page.")

    @app.errorhandler(429)
    def too_many(error):
        return page(
            429, "Please wait a moment",
            "There were too many tries from this device. Wait a few minutes, then try again, "
            "or ask your nurse for help.",
        )

    @app.errorhandler(413)
    def too_large(error):
        return page(
            413, "That was too much to send",
            "This page sent more than the quiz can take, so nothing was saved. Go to the start page "
            "to carry on.",
        )

    # The truth after a failed request: what was saved before it is saved (every answer is its own
    # commit), and the step that failed may or may not be. The quiz always shows the stored state, so
    # the patient is sent back to it rather than told something we cannot know.
    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        app.logger.exception("unhandled error on %s", redact_codes(request.path))
        return page(
            500, "Something went wrong",
            "Sorry, something went wrong on our side. Your last step may not be saved. Your other "
            "answers are safe. Go to the start page to see where you are, or ask your nurse for help.",
        )

    # The database was busy, unreachable or failed to commit: say so, and that the answer may be lost.
    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeoutError)
    def database_unavailable(error):
        db.session.rollback()
        app.logger.error("database unavailable on %s: %s", redact_codes(request.path), type(error).__name__,
                         exc_info=error)
        body, status = page(
            503, "We could not save that",
            "The quiz is busy right now, so your last answer may not be saved. Your other answers are "
            "safe. Wait a moment, then go to the start page. It shows where you are. If your answer is "
            "not there, answer it again.",
        )
        return body, status, {"Retry-After": "5"}
