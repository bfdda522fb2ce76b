"""The web build of the app (mobile/dist, config WEB_DIR) at /, when it exists; anything else is JSON 404."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Blueprint, abort, current_app, request, send_from_directory
from werkzeug.security import safe_join

bp = Blueprint("web", __name__)


def folder() -> Path | None:
    path = Path(current_app.config["WEB_DIR"])
    return path if (path / "index.html").is_file() else None


@bp.get("/")
def index():
    if folder() is None:
        abort(404, "no web build here; the API lives under /api (see /api/docs)")
    return send_from_directory(folder(), "index.html", max_age=0)


@bp.get("/<path:path>")
def files(path: str):
    if path.startswith("api/"):
        # An API path that exists for other methods is a 405 (this catch-all must not hide it as a 404).
        adapter = current_app.url_map.bind_to_environ(request.environ)
        others = set(adapter.allowed_methods("/" + path)) - {"GET", "HEAD", "OPTIONS"}
        abort(405, valid_methods=sorted(others)) if others else abort(404)
    root = folder()
    if root is None:
        abort(404)
    # Unknown paths get the app shell (client-side routes), and so does any path that would leave the folder:
    # the answer never tells which files exist outside it.
    inside = safe_join(str(root), path)
    if inside is not None and os.path.isfile(inside):
        return send_from_directory(root, path)
    return send_from_directory(root, "index.html", max_age=0)


# Content-Security-Policy per kind of response. The web app (an Expo web build): its own scripts only; inline
# styles (react-native-web writes them); images and API calls to any http(s) server (Settings may point the
# app at another one; results can be blobs); its "Open in Expo Snack" form posts to snack.expo.dev.
WEB_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
           "img-src 'self' data: blob: http: https:; connect-src 'self' http: https:; font-src 'self' data:; "
           "object-src 'none'; base-uri 'self'; form-action 'self' https://snack.expo.dev; frame-ancestors 'none'")
# /api/docs: the Swagger UI page, a fixed template with one inline script.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; object-src 'none'; frame-ancestors 'none'")
# Everything else (JSON, result and preview images): nothing may run, nothing may frame it.
API_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"


def security_headers(resp):
    """On every response: no MIME sniffing, a CSP, no framing by other sites, no referrer leaking job URLs."""
    h = resp.headers
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Referrer-Policy", "no-referrer")
    if request.blueprint == "web":
        csp = WEB_CSP
    elif request.endpoint == "docs.docs" or request.blueprint == "docs_ui":
        csp = DOCS_CSP
    else:
        csp = API_CSP
    h.setdefault("Content-Security-Policy", csp)
    return resp
