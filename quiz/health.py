"""`/healthz`: what a load balancer (and the benchmark's bare baseline) asks of each app server.

200 "ok" when this process serves requests and reaches its database; 503 otherwise, so a load balancer
stops sending patients to a server that cannot save their answers. No session, no template, no cookie.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    try:
        db.session.execute(text("SELECT 1"))
        status, body = 200, "ok\n"
    except SQLAlchemyError as error:
        db.session.rollback()
        current_app.logger.warning("health check: database unreachable (%s)", type(error).__name__)
        status, body = 503, "database unreachable\n"
    response = Response(body, status=status, mimetype="text/plain")
    response.cache_control.no_store = True
    return response
