"""The web build of the app (mobile/dist, config WEB_DIR) at /, when it exists; anything else is JSON 404."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, request, send_from_directory

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
    # send_from_directory refuses paths that escape root; unknown paths get the app shell (client-side routes).
    if (root / path).is_file():
        return send_from_directory(root, path)
    return send_from_directory(root, "index.html", max_age=0)
