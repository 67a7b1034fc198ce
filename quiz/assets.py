"""How files and pages travel to the browser: fingerprinted static URLs, cache lifetimes, gzip.

* **Fingerprints without touching templates.** `url_for('static', filename=...)` gets `?v=<hash of the
  file's content>` through the app's `url_defaults`, so every template that already links its CSS and
  JavaScript that way gets cache-busting URLs for free. A new deploy changes the hash, so the URL.
* **Long lifetimes only when the fingerprint matches.** The static view sends
  `Cache-Control: public, max-age=<1 year>, immutable` only when the request's `v` is the hash of the
  content it serves. Any other request (no `v`, or the hash of an older version asked of a server
  that already has the new one during a rolling deploy) gets `no-cache`: the browser revalidates with
  the ETag (a 304, no body), and nothing stale is pinned for a year.
* **Compression.** Static files are read once, gzipped once at level 9 and kept in memory (they are
  small and change only with a deploy; a changed file on disk is noticed by its size and mtime).
  Pages and fragments (HTML, JSON, text) are gzipped per response when the browser accepts it and
  the body is worth it. Each representation has its own ETag, and `Vary: Accept-Encoding` is sent so
  a shared cache never hands gzip to a client that did not ask for it.

Why compressing pages is safe here (BREACH): the attack needs a page that reflects attacker-chosen
text next to a secret, fetched many times with the victim's cookies from the attacker's site. The
session cookie is `SameSite=Lax`, so cross-site subresource requests carry no session; and the CSRF
token in a form is re-signed with a timestamp on every render, so guessing its bytes gains nothing.
"""
from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
import threading
from dataclasses import dataclass

from flask import Flask, Response, abort, current_app, request
from werkzeug.security import safe_join

FINGERPRINT_ARG = "v"
IMMUTABLE_SECONDS = 365 * 24 * 3600
COMPRESSIBLE = {
    "text/html", "text/css", "text/plain", "text/javascript", "application/javascript",
    "application/json", "image/svg+xml", "application/xml", "text/xml",
}
# Below this a compressed body saves less than a network packet.
MIN_COMPRESS_BYTES = 1024
# Per-response gzip level for pages: 6 is zlib's default, near the best ratio at a fraction of 9's cost.
PAGE_GZIP_LEVEL = 6


@dataclass(frozen=True)
class StaticFile:
    stat_key: tuple[int, int]  # (mtime_ns, size): a changed file on disk is read again
    fingerprint: str
    mimetype: str
    data: bytes
    gzipped: bytes | None  # None when compression does not pay (images, tiny files)
    mtime: float


class StaticFiles:
    """The app's static folder, read into memory on first use, with fingerprint and gzip copy."""

    def __init__(self, folder: str):
        self.folder = folder
        self._files: dict[str, StaticFile] = {}
        self._lock = threading.Lock()

    def get(self, filename: str) -> StaticFile | None:
        path = safe_join(self.folder, filename)
        if path is None:
            return None
        try:
            stat = os.stat(path)
        except (OSError, ValueError):  # ValueError: a NUL in the name (`/static/%00`)
            return None
        if not os.path.isfile(path):
            return None
        key = (stat.st_mtime_ns, stat.st_size)
        known = self._files.get(filename)
        if known is not None and known.stat_key == key:
            return known
        with open(path, "rb") as handle:
            data = handle.read()
        mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        gzipped = None
        if _compressible(mimetype) and len(data) >= MIN_COMPRESS_BYTES:
            gzipped = gzip.compress(data, compresslevel=9, mtime=0)
            if len(gzipped) >= len(data):
                gzipped = None
        entry = StaticFile(key, hashlib.sha256(data).hexdigest()[:16], mimetype, data, gzipped, stat.st_mtime)
        with self._lock:
            self._files[filename] = entry
        return entry

    def fingerprint(self, filename: str) -> str | None:
        entry = self.get(filename)
        return entry.fingerprint if entry else None


def _compressible(mimetype: str) -> bool:
    return mimetype in COMPRESSIBLE


def _accepts_gzip() -> bool:
    return request.accept_encodings["gzip"] > 0


def init_app(app: Flask) -> None:
    files = StaticFiles(app.static_folder)
    app.extensions["quiz_static_files"] = files

    @app.url_defaults
    def fingerprint_static_urls(endpoint: str, values: dict) -> None:
        if endpoint == "static" and FINGERPRINT_ARG not in values and "filename" in values:
            fingerprint = files.fingerprint(values["filename"])
            if fingerprint:
                values[FINGERPRINT_ARG] = fingerprint

    app.view_functions["static"] = static_file
    app.after_request(compress_response)


def static_file(filename: str) -> Response:
    """The static view: the file's current content, long-cached only under its own fingerprint."""
    entry: StaticFile | None = current_app.extensions["quiz_static_files"].get(filename)
    if entry is None:
        abort(404)
    gzipped = entry.gzipped is not None and _accepts_gzip()
    response = Response(entry.gzipped if gzipped else entry.data, mimetype=entry.mimetype)
    if entry.gzipped is not None:
        response.vary.add("Accept-Encoding")
    if gzipped:
        response.headers["Content-Encoding"] = "gzip"
    response.set_etag(entry.fingerprint + ("-gz" if gzipped else ""))
    response.last_modified = entry.mtime
    if request.args.get(FINGERPRINT_ARG) == entry.fingerprint:
        response.cache_control.public = True
        response.cache_control.max_age = IMMUTABLE_SECONDS
        response.cache_control.immutable = True
    else:
        response.cache_control.no_cache = True
    return response.make_conditional(request)


def compress_response(response: Response) -> Response:
    """gzip a page or fragment when the browser accepts it (static files are compressed above)."""
    if (
        response.direct_passthrough
        or response.is_streamed
        or "Content-Encoding" in response.headers
        or not _compressible(response.mimetype or "")
        or request.method == "HEAD"
        or response.status_code in (204, 304)
        or response.status_code < 200
    ):
        return response
    response.vary.add("Accept-Encoding")
    body = response.get_data()
    if len(body) < MIN_COMPRESS_BYTES or not _accepts_gzip():
        return response
    response.set_data(gzip.compress(body, compresslevel=PAGE_GZIP_LEVEL, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    etag, weak = response.get_etag()
    if etag:
        response.set_etag(etag + "-gz", weak=weak)
    return response
