"""POST /api/portrait: a GAN face (seed; the bundled face generator or a trained one, `generator`), or the user's
own `photo`, stylised with a style file or a preset -> 202 and a job. The fields: worker/params.py."""
from __future__ import annotations

import json

from flask import Blueprint, current_app, request

from app import forms, generators, images
from app.errors import APIError
from app.jobs import admit, submit
from worker import params

bp = Blueprint("portrait", __name__, url_prefix="/api")


def json_object() -> dict:
    """The JSON body, at most MAX_JSON_BYTES (a 413 past that) and an object (a 400 otherwise)."""
    if (request.content_length or 0) > params.MAX_JSON_BYTES or len(request.get_data()) > params.MAX_JSON_BYTES:
        raise APIError(413, "too_large", f"a JSON body is limited to {params.MAX_JSON_BYTES // 1024} KB")
    try:
        data = json.loads(request.get_data())
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser's stack
        data = None
    if not isinstance(data, dict):
        raise APIError(400, "bad_json", "the body must be a JSON object like {\"seed\": 7, \"preset\": 3}")
    return data


@bp.post("/portrait")
def portrait():
    key, replayed = admit()
    if replayed:
        return replayed
    if request.mimetype == "application/json":
        p = forms.checked("portrait", json_object(), {}, strict=True)
        uploads = {}
    elif request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded") or not request.data:
        uploads = {name: request.files.getlist(name) for name in request.files}
        p = forms.checked("portrait", request.form.to_dict(), uploads)
    else:
        raise APIError(415, "unsupported_media_type", "send multipart/form-data, a urlencoded form, or JSON")
    if p.generator is not None:  # absent: the bundled face generator
        p.generator = generators.generator(p.generator)
    mp = int(current_app.config["MAX_PIXELS"])
    photo = images.decode(uploads["photo"][0].read(), "photo", mp) if uploads.get("photo") else None
    styles = [images.decode(f.read(), "style", mp) for f in uploads.get("style", [])]
    # the photo is stored as the job's content input, as a stylize job's is
    return submit("portrait", p.engine, params.record(p), photo, styles, key)
