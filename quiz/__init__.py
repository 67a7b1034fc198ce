"""Patient-education quiz: application factory."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from jinja2 import StrictUndefined
from werkzeug.middleware.proxy_fix import ProxyFix

from .bank import placeholders
from .config import PROJECT_ROOT, load_config
from .extensions import csrf, db, limiter, migrate

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
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)

    from . import cli
    from .patient.routes import bp as patient_bp
    from .site import bp as site_bp
    from .sources.routes import bp as sources_bp

    app.register_blueprint(patient_bp)
    app.register_blueprint(sources_bp)
    app.register_blueprint(site_bp)
    cli.init_app(app)
    _register_error_pages(app)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # Access codes travel in links: never leak a URL to another site.
        response.headers.setdefault("Referrer-Policy", "no-referrer")
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


def _register_error_pages(app: Flask) -> None:
    def page(status: int, title: str, message: str):
        return render_template("error.html", title=title, message=message), status

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        app.logger.warning("CSRF refused on %s: %s", request.path, error.description)
        return page(
            400, "Please try again",
            "This page was open for a long time, so we could not save that step. Nothing you "
            "answered before is lost. Go back to the start and enter your code to carry on.",
        )

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

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        app.logger.exception("unhandled error on %s", request.path)
        return page(
            500, "Something went wrong",
            "Sorry, something went wrong on our side. Your answers so far are saved. "
            "Please try again, or ask your nurse for help.",
        )
