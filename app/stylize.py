"""POST /api/stylize: multipart content + style file(s) or a preset (gatys, fast), or a translate model
(engine=translate, model=NAME from MODELS_DIR/translate) -> 202 and a job."""
from __future__ import annotations

import secrets

from flask import Blueprint, current_app, request

from app import forms, generators, images
from app.errors import APIError
from app.jobs import admit, submit

bp = Blueprint("stylize", __name__, url_prefix="/api")

FIELDS = {"content", "style", "style_weights", "preset", "engine", "size", "steps", "content_weight",
          "style_weight", "tv_weight", "preserve_color", "init", "style_scale", "strength", "seed", "model"}
ENGINES = ("gatys", "fast", "translate")
GATYS_ONLY = {"steps", "content_weight", "style_weight", "tv_weight", "init", "style_scale", "style_weights", "seed"}
INITS = ("content", "style", "noise")


def multipart():
    if request.mimetype != "multipart/form-data":
        raise APIError(415, "multipart_required", "send multipart/form-data, e.g. curl -F content=@a.jpg "
                       "-F style=@b.jpg")
    unknown = sorted((set(request.form) | set(request.files)) - FIELDS)
    if unknown:
        raise APIError(422, "unknown_field", f"unknown field(s): {', '.join(u[:40] for u in unknown[:5])}; "
                       f"allowed: {', '.join(sorted(FIELDS))}")
    return request.form


def read_files(name: str) -> list[bytes]:
    return [f.read() for f in request.files.getlist(name)]


def common(form, cfg) -> dict:
    return {"size": forms.integer(form, "size", 512, 16, int(cfg["MAX_SIZE"])),
            "preserve_color": forms.boolean(form, "preserve_color", False)}


@bp.post("/stylize")
def stylize():
    key, replayed = admit()
    if replayed:
        return replayed
    form, cfg = multipart(), current_app.config
    if "content" in form:
        raise APIError(422, "file_required", "content must be a file upload: -F content=@photo.jpg")
    contents = read_files("content")
    if len(contents) != 1:
        raise APIError(422, "content_required", "exactly one content file is required: -F content=@photo.jpg")
    style_blobs = read_files("style")
    if "style" in form:
        raise APIError(422, "file_required", "style must be a file upload: -F style=@painting.jpg")
    engine = forms.choice(form, "engine", "gatys", ENGINES)
    if engine == "translate":
        return translate(form, cfg, contents[0], style_blobs, key)
    if "model" in form:
        raise APIError(422, "not_for_engine", f"model applies to engine=translate, not engine={engine}")
    preset = forms.preset(form)
    params = {"engine": engine, **common(form, cfg)}
    if len(style_blobs) > int(cfg["MAX_STYLES"]):
        raise APIError(422, "too_many_styles", f"at most {cfg['MAX_STYLES']} style images")
    if engine == "fast":
        if (preset is None) == (not style_blobs) or len(style_blobs) > 1:
            raise APIError(422, "style_or_preset", "engine=fast needs exactly one of: one style file, or preset")
        params.update(preset=preset, strength=forms.number(form, "strength", 1.0, 0.0, 1.0))
        ignored = GATYS_ONLY - {"seed"}
    else:
        if preset is not None:
            raise APIError(422, "preset_needs_fast", "presets work with engine=fast; gatys needs style file(s)")
        if not style_blobs:
            raise APIError(422, "style_required", "at least one style file is required: -F style=@painting.jpg")
        params.update(
            style_weights=forms.weights(form, "style_weights", len(style_blobs)),
            steps=forms.integer(form, "steps", None, 1, int(cfg["MAX_STEPS"])),
            content_weight=forms.number(form, "content_weight", None, 0.0, 1e12),
            style_weight=forms.number(form, "style_weight", None, 0.0, 1e12),
            tv_weight=forms.number(form, "tv_weight", None, 0.0, 1e12),
            init=forms.choice(form, "init", "content", INITS),
            style_scale=forms.number(form, "style_scale", 1.0, 0.1, 4.0),
            seed=forms.integer(form, "seed", None, 0, 2**31 - 1))
        if params["seed"] is None:
            params["seed"] = secrets.randbelow(2**31)
        ignored = {"strength"}
    extra = sorted(ignored & set(form))
    if extra:
        raise APIError(422, "not_for_engine", f"{', '.join(extra)} do(es) not apply to engine={engine}")
    mp = int(cfg["MAX_PIXELS"])
    content = images.decode(contents[0], "content", mp)
    styles = [images.decode(b, f"style[{i}]", mp) for i, b in enumerate(style_blobs)]
    return submit("stylize", engine, params, content, styles, key)


def translate(form, cfg, content_blob: bytes, style_blobs: list[bytes], key):
    """engine=translate: the content through the image-to-image generator `model`; no style, no preset."""
    extra = sorted(({"preset", "strength", "preserve_color"} | GATYS_ONLY - {"seed"}) & set(form))
    if style_blobs:
        extra.insert(0, "style")
    if extra:
        raise APIError(422, "not_for_engine", f"{', '.join(extra)} do(es) not apply to engine=translate (it takes "
                       "content, model and size)")
    if str(form.get("model") or "").strip() == "":
        raise APIError(422, "model_required", "engine=translate needs model=NAME; available: "
                       f"{', '.join(r['name'] for r in generators.translators()) or 'none'} (GET /api/generators)")
    params = {"engine": "translate", "size": forms.integer(form, "size", 512, 16, int(cfg["MAX_SIZE"])),
              "model": generators.translate_model(form["model"])}
    content = images.decode(content_blob, "content", int(cfg["MAX_PIXELS"]))
    return submit("stylize", "translate", params, content, [], key)
