"""The one place that knows about htmx request headers.

A page template wraps its swappable region in `{% block card %}`. `render_page_or_block` renders the
whole page for a normal request and only that block for an htmx request, so one template serves both
and the no-JavaScript flow gets the same markup.
"""
from __future__ import annotations

from flask import Response, make_response, redirect, render_template, request
from jinja2_fragments.flask import render_block


def is_htmx() -> bool:
    # A history-restore request wants the full page even though htmx sent it.
    return request.headers.get("HX-Request") == "true" and not request.headers.get(
        "HX-History-Restore-Request"
    )


def render_page_or_block(template: str, block: str = "card", status: int = 200, **context) -> Response:
    if is_htmx():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def redirect_after(url: str) -> Response:
    """Where to go next: 303 for a plain request; for htmx, 204 with `HX-Redirect`, so the browser
    navigates instead of htmx following the redirect inside its request and swapping in a whole page."""
    if is_htmx():
        response = Response(status=204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, code=303)
