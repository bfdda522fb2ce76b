"""GET /api/styles: the 26 presets (from MODELS_DIR/thumbnails/index.json) and their thumbnails."""
from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, current_app, jsonify, send_file, url_for

from app.errors import APIError

bp = Blueprint("styles", __name__, url_prefix="/api/styles")


def index() -> list[dict]:
    path = Path(current_app.config["MODELS_DIR"]) / "thumbnails" / "index.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        raise APIError(503, "models_missing", "the preset gallery is not built yet; run "
                       "`python -m worker models fetch` (make serve does it)")


@bp.get("")
def styles():
    items = [{"id": int(s["id"]), "name": s["name"],
              "thumbnail": url_for("styles.thumbnail", style_id=int(s["id"]))} for s in index()]
    resp = jsonify({"styles": items, "count": len(items)})
    resp.headers["Cache-Control"] = "public, max-age=3600"
    return resp


@bp.get("/<int:style_id>.jpg")
def thumbnail(style_id: int):
    entry = next((s for s in index() if int(s["id"]) == style_id), None)
    if entry is None:
        raise APIError(404, "style_not_found", f"no preset {style_id}; ids run from 0 to 25")
    # The file name comes from our own index, never from the URL; it must stay inside the thumbnails folder.
    folder = (Path(current_app.config["MODELS_DIR"]) / "thumbnails").resolve()
    path = (folder / entry["file"]).resolve()
    if path.parent != folder or not path.is_file():
        raise APIError(404, "style_not_found", f"the thumbnail for preset {style_id} is missing")
    return send_file(path, mimetype="image/jpeg", max_age=86400)
