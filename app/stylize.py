"""POST /api/stylize: multipart content + style file(s) or a preset (gatys, fast), or a translate model
(engine=translate, model=NAME from MODELS_DIR/translate) -> 202 and a job. The fields: worker/params.py."""
from __future__ import annotations

from flask import Blueprint, current_app, request

from app import forms, generators, images
from app.errors import APIError
from app.jobs import admit, submit
from worker import params

bp = Blueprint("stylize", __name__, url_prefix="/api")


@bp.post("/stylize")
def stylize():
    key, replayed = admit()
    if replayed:
        return replayed
    if request.mimetype != "multipart/form-data":
        raise APIError(415, "multipart_required", "send multipart/form-data, e.g. curl -F content=@a.jpg "
                       "-F style=@b.jpg")
    uploads = {name: request.files.getlist(name) for name in request.files}
    p = forms.checked("stylize", request.form.to_dict(), uploads)
    if p.engine == "translate":
        p.model = generators.translate_model(p.model)  # 422 naming the models there are
    mp = int(current_app.config["MAX_PIXELS"])
    content = images.decode(uploads["content"][0].read(), "content", mp)
    styles = [images.decode(f.read(), f"style[{i}]", mp) for i, f in enumerate(uploads.get("style", []))]
    return submit("stylize", p.engine, params.record(p), content, styles, key)
