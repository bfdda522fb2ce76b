"""GET /api/generators: the user's own models in MODELS_DIR, for `generator` on /api/portrait (trained DCGANs) and
`engine=translate` + `model` on /api/stylize (CycleGAN / pix2pix generators, the bundled `vintage` among them).
Also the name checks both use.

Read through worker.generators, which lists folders and JSON sidecars only (no torch).
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from flask import Blueprint, current_app, jsonify

from app.errors import APIError
from worker import generators as user_models

bp = Blueprint("generators", __name__, url_prefix="/api")

# Only these reach the client: a config also holds e.g. the server path of the training data.
DCGAN_FIELDS = ("size", "created", "step", "epochs", "images", "nz", "ngf")
TRANSLATE_FIELDS = ("family", "direction", "size", "created", "step", "bytes")


def root() -> Path:
    return Path(current_app.config["MODELS_DIR"])


def dcgans() -> list[dict]:
    return [{"name": r["name"], "family": "dcgan", **{k: r.get(k) for k in DCGAN_FIELDS}}
            for r in user_models.listing(root())]


def translators() -> list[dict]:
    rows = []
    for r in user_models.translators(root()):
        row = {"name": r["name"], **{k: r.get(k) for k in TRANSLATE_FIELDS}}
        if not row["created"]:  # a dropped-in official checkpoint (or a bundled one) has no date: the file's time
            try:
                mtime = user_models.translate_file(r, root()).stat().st_mtime
                row["created"] = datetime.fromtimestamp(mtime, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            except OSError:
                pass
        rows.append(row)
    return rows


@bp.get("/generators")
def listing():
    # The bundled face generator is not listed: it is what a portrait uses when `generator` is not given.
    return jsonify({"generators": dcgans(), "translate": translators()})


def check(field: str, raw, names: list[str], what: str, hint: str) -> str:
    """`raw` as a known model name, else a 422 naming the available ones."""
    try:
        name = user_models.check_name(raw.strip() if isinstance(raw, str) else raw)
    except ValueError as e:
        raise APIError(422, "invalid_parameter", f"{field}: {e}", field=field, available=names)
    if name not in names:
        raise APIError(422, f"unknown_{field}", f"{field}: no {what} {name!r}; available: "
                       f"{', '.join(names) or 'none ' + hint} (GET /api/generators lists them)",
                       field=field, available=names)
    return name


def generator(raw) -> str:
    return check("generator", raw, [r["name"] for r in user_models.listing(root())], "trained generator",
                 "(train one with `python -m worker train-gan --data DIR --out NAME`)")


def translate_model(raw) -> str:
    return check("model", raw, [r["name"] for r in user_models.translators(root())], "translate model",
                 "(put a CycleGAN/pix2pix generator .safetensors or .pth into MODELS_DIR/translate/, or train one "
                 "with `python -m worker train-cyclegan`)")
