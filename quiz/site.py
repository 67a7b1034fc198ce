"""Site-wide pieces every visitor meets, signed in or not: the text-size control, the app icon at
`/favicon.ico`, and the web app manifest that lets a ward tablet pin the quiz to its home screen.

Text size: three sizes, kept in a cookie on the device (not in the patient's session, so it survives
"Stop for now" and helps the next patient on a shared tablet too), chosen with a plain form so it works
without JavaScript. `static/js/app.js` sends the same form in the background and changes the size in
place, so the page does not reload under the patient's eyes.
"""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import (
    Blueprint, Response, current_app, jsonify, redirect, request, send_from_directory, url_for,
)

bp = Blueprint("site", __name__)

TEXT_SIZE_COOKIE = "text_size"
# value -> what the button says to a screen reader; the first is the default.
TEXT_SIZES = {"standard": "Standard text size", "large": "Large text", "largest": "Largest text"}
ONE_YEAR = 365 * 24 * 3600


def local_path(raw: str, default: str) -> str:
    """`raw` if it is a path on this site (so a crafted link cannot send anyone elsewhere), else
    `default`."""
    parts = urlsplit(raw or "")
    if (not raw.startswith("/") or raw.startswith("//") or "\\" in raw or parts.scheme or parts.netloc
            or any(ord(c) < 32 for c in raw)):
        return default
    return raw


def hospital_today() -> str:
    """Today's date where the hospital is (`DISPLAY_TIMEZONE`), written out so no reader mixes up day and
    month: "22 November 2026"."""
    name = current_app.config.get("DISPLAY_TIMEZONE", "UTC")
    today = datetime.now(timezone.utc if name == "UTC" else ZoneInfo(name)).date()
    return f"{today.day} {today:%B %Y}"


def current_text_size() -> str:
    chosen = request.cookies.get(TEXT_SIZE_COOKIE, "")
    return chosen if chosen in TEXT_SIZES else next(iter(TEXT_SIZES))


@bp.app_context_processor
def page_settings() -> dict:
    return {"text_size": current_text_size(), "text_sizes": TEXT_SIZES,
            "here": request.full_path.rstrip("?") if request.method == "GET" else request.path}


@bp.post("/text-size")
def text_size():
    """Remember the chosen size on this device, then show the same page again (303)."""
    size = request.form.get("size", "")
    response = redirect(local_path(request.form.get("next", ""), url_for("patient.start")), code=303)
    if size in TEXT_SIZES:
        response.set_cookie(
            TEXT_SIZE_COOKIE, size, max_age=ONE_YEAR, httponly=True, samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
    return response


@bp.get("/favicon.ico")
def favicon() -> Response:
    # Browsers ask for /favicon.ico whatever the page links to; a 404 there is a console error.
    return send_from_directory(current_app.static_folder, "icons/favicon.ico",
                               mimetype="image/vnd.microsoft.icon", max_age=7 * 24 * 3600)


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    """Served by the app rather than as a static file so the icon URLs go through `url_for` (and any
    fingerprinting of static files)."""
    icons = [
        {"src": url_for("static", filename=f"icons/icon-{size}.png"), "sizes": f"{size}x{size}",
         "type": "image/png", "purpose": "any"}
        for size in (192, 512)
    ] + [{"src": url_for("static", filename="icons/icon-maskable-512.png"), "sizes": "512x512",
          "type": "image/png", "purpose": "maskable"}]
    response = jsonify({
        "name": "Medicine safety quiz",
        "short_name": "Medicine quiz",
        "description": "Learn to use your medicine safely, one short question at a time.",
        "start_url": url_for("patient.start"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#f3f5f7",
        "theme_color": "#083b69",
        "icons": icons,
    })
    response.mimetype = "application/manifest+json"
    return response
