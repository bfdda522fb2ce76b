"""The API's side of the request contract (worker/params.py): a request's fields and uploads -> the validated
params model, or the contract's refusal as a 4xx JSON error naming the field and its allowed values."""
from __future__ import annotations

from flask import current_app

from app import generators
from app.errors import APIError
from worker import params


# a model name field -> its check in app/generators.py (a 422 naming the installed ones)
NAMED = {"generator": generators.generator, "model": generators.translate_model}


def checked(kind: str, fields, uploads: dict[str, list], strict: bool = False) -> params.Params:
    """fields: text fields (form) or a JSON object (strict: typed); uploads: {field: [file, ...]}."""
    cfg = current_app.config
    # a deployment may lower the contract's caps (MAX_SIZE, MAX_STEPS), never raise them past what engines run
    limits = {f"max_{name}": int(cfg[f"MAX_{name.upper()}"]) for name, cap in
              (("size", params.MAX_SIZE), ("steps", params.MAX_STEPS)) if int(cfg[f"MAX_{name.upper()}"]) < cap}
    try:
        return params.parse(kind, fields, {k: len(v) for k, v in uploads.items()}, limits, strict)
    except params.ParamError as e:
        if e.field in NAMED and e.code == "invalid_parameter":  # the name checks say which names there are
            NAMED[e.field](fields.get(e.field))
        message = e.message
        if e.code == "model_required":
            message += "; available: " + (", ".join(r["name"] for r in generators.translators()) or "none")
        raise APIError(e.status, e.code, message, **({"field": e.field} if e.field else {}))
