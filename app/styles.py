"""GET /api/styles: the 26 presets (worker/presets.py: id, name, default strength) and their thumbnails
(MODELS_DIR/thumbnails, rendered once by `models fetch`)."""
from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, current_app, jsonify, send_file, url_for

from app.errors import APIError
from worker import presets

bp = Blueprint("styles", __name__, url_prefix="/api/styles")


def thumbnails() -> list[dict]:
    path = Path(current_app.config["MODELS_DIR"]) / "thumbnails" / "index.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        raise APIError(503, "models_missing", "the preset gallery is not built yet; run "
                       "`python -m worker models fetch` (make serve does it)")


@bp.get("")
def styles():
    # strength: what the fast engine uses when a request names this preset without a strength
    items = [{"id": p.id, "name": p.name, "strength": p.strength,
              "thumbnail": url_for("styles.thumbnail", style_id=p.id)} for p in presets.PRESETS]
    resp = jsonify({"styles": items, "count": len(items)})
    resp.headers["Cache-Control"] = "public, max-age=3600"
    return resp


@bp.get("/<int:style_id>.jpg")
def thumbnail(style_id: int):
    entry = next((s for s in thumbnails() if int(s["id"]) == style_id), None)
    if entry is None:
        raise APIError(404, "style_not_found", f"no preset {style_id}; ids run from 0 to {presets.COUNT - 1}")
    # The file name comes from our own index, never from the URL; it must stay inside the thumbnails folder.
    folder = (Path(current_app.config["MODELS_DIR"]) / "thumbnails").resolve()
    path = (folder / entry["file"]).resolve()
    if path.parent != folder or not path.is_file():
        raise APIError(404, "style_not_found", f"the thumbnail for preset {style_id} is missing")
    return send_file(path, mimetype="image/jpeg", max_age=86400)
