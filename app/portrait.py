"""POST /api/portrait: a GAN face (seed; the bundled face generator or a trained one, `generator`) stylised with a
style file or a preset -> 202 and a job."""
from __future__ import annotations

import secrets

from flask import Blueprint, current_app, request

from app import forms, generators, images
from app.errors import APIError
from app.jobs import admit, submit

bp = Blueprint("portrait", __name__, url_prefix="/api")
FIELDS = {"seed", "style", "preset", "engine", "size", "generator"}


def fields():
    """Form (multipart or urlencoded) or a JSON object; anything else is a 415."""
    if request.mimetype == "application/json":
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise APIError(400, "bad_json", "the body must be a JSON object like {\"seed\": 7, \"preset\": 3}")
        return data, []
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded") or not request.data:
        return request.form, [f.read() for f in request.files.getlist("style")]
    raise APIError(415, "unsupported_media_type", "send multipart/form-data, a urlencoded form, or JSON")


@bp.post("/portrait")
def portrait():
    key, replayed = admit()
    if replayed:
        return replayed
    form, blobs = fields()
    names = set(form) | (set(request.files) if request.files else set())
    unknown = sorted(names - FIELDS)
    if unknown:
        raise APIError(422, "unknown_field", f"unknown field(s): {', '.join(str(u)[:40] for u in unknown[:5])}; "
                       f"allowed: {', '.join(sorted(FIELDS))}")
    if "style" in form:
        raise APIError(422, "file_required", "style must be a file upload: -F style=@painting.jpg")
    cfg = current_app.config
    preset = forms.preset(form)
    if (preset is None) == (not blobs) or len(blobs) > 1:
        raise APIError(422, "style_or_preset", "a portrait needs exactly one of: one style file, or preset")
    params = {"seed": forms.integer(form, "seed", None, 0, 2**31 - 1),
              "engine": forms.choice(form, "engine", "fast", ("fast", "gatys")),
              "size": forms.integer(form, "size", 512, 64, int(cfg["MAX_SIZE"])),
              "preset": preset}
    if params["seed"] is None:
        params["seed"] = secrets.randbelow(2**31)
    raw = form.get("generator")
    if raw is not None and str(raw).strip() != "":  # absent: the bundled face generator
        params["generator"] = generators.generator(raw)
    if params["engine"] == "gatys" and preset is not None:
        raise APIError(422, "preset_needs_fast", "presets work with engine=fast; gatys needs a style file")
    styles = [images.decode(b, "style", int(cfg["MAX_PIXELS"])) for b in blobs]
    return submit("portrait", params["engine"], params, None, styles, key)
