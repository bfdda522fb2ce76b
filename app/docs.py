"""GET /api/openapi.json (OpenAPI 3.1, generated) and /api/docs (Swagger UI from the flask-openapi3-swagger wheel).

Why flask-openapi3 and not spectree: both build OpenAPI from pydantic v2 models, but spectree's UI pages load
Swagger/Redoc from a CDN, while flask-openapi3's UI plugins (flask-openapi3-swagger) ship the assets inside the
wheel, and its APIBlueprint takes per-status responses, headers and multipart FileStorage fields as they are. The
request schemas are the contract's own models (worker/params.py) plus their upload fields; the cross-field rules
(which engine takes which fields, style xor preset, photo xor seed) are oneOf branches with closed field sets.

(No `from __future__ import annotations` here: flask-openapi3 reads the stubs' annotations, some of them local.)

The routes themselves stay plain Flask views that validate with worker/params.py (their error codes and the order
of checks are part of the API); the operations below describe them and tests/test_api.py checks that every /api
route is here. Validation by flask-openapi3 is not used: these functions are never served.
"""
import json
import os
from functools import lru_cache
from typing import Annotated, Any, Literal, Optional

from flask import Blueprint, jsonify, render_template_string
from flask_openapi3 import APIBlueprint, FileStorage, Info, OpenAPI, Tag
from flask_openapi3_swagger import templates as swagger_templates
from pydantic import BaseModel, ConfigDict, Field, create_model

from worker import params

bp = Blueprint("docs", __name__, url_prefix="/api")
# The Swagger UI's files, from the wheel (outside /api/: every /api route is an operation of the document)
ui = Blueprint("docs_ui", __name__, static_folder=os.path.dirname(swagger_templates.__file__),
               static_url_path="/docs-ui")
IDEM_KEY = r"^[\x21-\x7e]{1,200}$"  # printable ASCII, no spaces (app/jobs.py checks the same)


# --- response shapes -------------------------------------------------------------------------------------------------

class ErrorBody(BaseModel):
    code: str = Field(description="stable, e.g. invalid_parameter, style_or_preset, queue_full")
    message: str = Field(description="for people: names the field and its allowed values")
    field: Optional[str] = None
    available: Optional[list[str]] = Field(None, description="unknown generator/model: the names there are")


class Error(BaseModel):
    error: ErrorBody


class Progress(BaseModel):
    step: int
    total: int
    fraction: float


class JobError(BaseModel):
    code: str = Field(description="canceled, time_limit, out_of_memory, invalid_params, models_missing, ...")
    message: str


class Urls(BaseModel):
    get: str
    result: str
    preview: str
    cancel: str
    face: Optional[str] = Field(None, description="portraits: the face as it went into the painting (the aligned "
                                "crop of the photo, or the upscaled GAN face), PNG, once succeeded")
    content: Optional[str] = Field(None, description="the uploaded photo as stored (downscaled at the door), PNG; "
                                   "absent for generated portraits")


class Job(BaseModel):
    id: str
    kind: Literal["stylize", "portrait"]
    status: Literal["queued", "running", "succeeded", "failed", "canceled"]
    progress: Progress
    eta_seconds: Optional[float]
    queue_position: Optional[int]
    created_at: Optional[str]
    started_at: Optional[str]
    finished_at: Optional[str]
    params: dict[str, Any] = Field(description="the effective parameters: defaults filled in, the seed echoed")
    error: Optional[JobError]
    urls: Urls


class Style(BaseModel):
    id: int
    name: str
    strength: Optional[float] = Field(None, description="the preset's default strength")
    thumbnail: str


class Styles(BaseModel):
    styles: list[Style]
    count: int


class UserModel(BaseModel):
    name: str
    family: Optional[str] = Field(None, description="dcgan, resnet (CycleGAN) or unet (pix2pix)")
    direction: Optional[str] = None
    size: Optional[int] = None
    created: Optional[str] = None
    step: Optional[int] = None
    epochs: Optional[int] = None
    images: Optional[int] = None
    bytes: Optional[int] = None


class Generators(BaseModel):
    generators: list[UserModel]
    translate: list[UserModel]


class Check(BaseModel):
    ok: bool


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    ready: Optional[bool] = Field(None, description="every live worker has its models loaded")
    broker: dict[str, Any]
    job_store: dict[str, Any]
    disk: Optional[dict[str, Any]] = None
    workers: dict[str, Any] = Field(description="{count, queues}")
    queue_depth: dict[str, int]


class Snack(BaseModel):
    url: str
    method: str
    fields: dict[str, str]
    server: Optional[str]


# --- request shapes: the contract's models plus their uploads, one closed branch per rule ----------------------------

Upload = Annotated[FileStorage, Field(description="an image file (JPEG, PNG, WebP, GIF, BMP, TIFF, HEIC)")]
REF = "#/components/schemas/{model}"


def with_files(model: type[params.Params]) -> type[BaseModel]:
    """`model` plus its upload fields (model.files: how many of each) as a multipart form model."""
    extra: dict[str, Any] = {}
    for name, (least, most) in model.files.items():
        if most == 1 and name != "style":  # style is always a list: a repeated part, like gatys's blend
            extra[name] = (Upload, ... if least else None)
        else:
            extra[name] = (list[Upload], Field(... if least else None, min_length=least, max_length=most,
                                               description="repeat the field for a blend (style_weights)"))
    return create_model(f"{model.__name__}Form", __base__=model, __doc__=model.__doc__, **extra)


def branch(model: type[params.Params], title: str, require=(), drop=(), engines=None, **props: dict) -> dict:
    """The JSON schema of `model` (with its uploads) as one rule's branch: `require` and `drop` fields, `engines`
    the allowed engine values, `props` overrides of field schemas. Null is left out: a form field is absent or has
    a value."""
    s = with_files(model).model_json_schema(ref_template=REF)
    over, props = props, {}
    for name, prop in s["properties"].items():
        if name in drop:
            continue
        options = [o for o in prop.get("anyOf", []) if o.get("type") != "null"]
        if options:
            prop = {**{k: v for k, v in prop.items() if k != "anyOf"}, **(options[0] if len(options) == 1 else
                                                                             {"anyOf": options})}
        if prop.get("default", 0) is None:
            prop = {k: v for k, v in prop.items() if k != "default"}
        props[name] = prop
    for name, override in over.items():
        props[name] = {**props[name], **override}
    for name, prop in props.items():  # the docs page shows descriptions: the allowed values and default there too
        notes = [f"one of {', '.join(map(str, prop['enum']))}"] if "enum" in prop else []
        if prop.get("default") is not None:
            notes.append(f"default {json.dumps(prop['default'])}")
        if notes:
            props[name] = {**prop, "description": f"{prop.get('description', '')} ({'; '.join(notes)})".strip()}
    if engines:
        props["engine"] = {**props["engine"], "enum": list(engines)}
        props["engine"].pop("const", None)
    required = sorted((set(s.get("required", [])) | set(require)) - set(drop))
    return {"title": title, "type": "object", "properties": props, "required": required,
            "additionalProperties": False, **({"description": s["description"]} if "description" in s else {})}


def one_of(*branches: dict) -> Any:
    """json_schema_extra: the model's schema is oneOf its branches, each a closed set of fields with their ranges
    and defaults (the docs page shows each branch)."""
    def extra(s: dict, _cls) -> None:
        # top level: every field any branch takes, each at its loosest (the docs page lists these, and clients
        # see which parts are files); the rules are the branches
        variants: dict[str, list[dict]] = {}
        for b in branches:
            for k, v in b["properties"].items():
                if v not in variants.setdefault(k, []):
                    variants[k].append(v)
        s["properties"] = {k: loosest(v) for k, v in variants.items()}
        s["oneOf"] = list(branches)
        s.pop("required", None)
    return extra


def loosest(variants: list[dict]) -> dict:
    """One schema admitting each variant of a field: the widest bounds, every allowed value."""
    if len(variants) == 1:
        return variants[0]
    first, merged = variants[0], dict(variants[0])
    if all("const" in v or "enum" in v for v in variants):
        values = [x for v in variants for x in v.get("enum", [v.get("const")])]
        merged.pop("const", None)
        merged["enum"] = list(dict.fromkeys(values))
        merged["description"] = f"one of {', '.join(map(str, merged['enum']))}" + (
            f" (default {json.dumps(first['default'])})" if "default" in first else "")
        return merged
    if all(v.get("type") == first.get("type") for v in variants):
        for key, pick in (("minimum", min), ("maximum", max), ("minItems", min), ("maxItems", max)):
            if all(key in v for v in variants):
                merged[key] = pick(v[key] for v in variants)
        patterns = list(dict.fromkeys(v["pattern"] for v in variants if "pattern" in v))
        if len(patterns) > 1:
            merged["pattern"] = "|".join(f"(?:{p})" for p in patterns)
        return merged
    return {"anyOf": variants, "description": first.get("description", "")}


FACE, PHOTO = ("photo",), ("seed", "generator")


def named(schema: dict, field: str, names: tuple[str, ...]) -> dict:
    """`field` limited to the names this server has (GET /api/generators), when it has some."""
    props = dict(schema["properties"])
    if field not in props or not names:
        return schema
    props[field] = {**props[field], "enum": list(names)}
    props[field].pop("pattern", None)
    return {**schema, "properties": props}


def forms(generators: tuple[str, ...], translators: tuple[str, ...]) -> tuple[type[BaseModel], type[BaseModel], dict]:
    """The stylize and portrait multipart form models, and the portrait's JSON/urlencoded schema. `model` and
    `generator` name what is installed, so the document admits what the server runs."""
    # gatys: one branch per number of style files, so style_weights has exactly that many weights
    stylize = [branch(params.Gatys, f"gatys: {n} style file(s)", style={"minItems": n, "maxItems": n},
                      style_weights={"pattern": params.weights_pattern(n)}) for n in range(1, params.MAX_STYLES + 1)]
    stylize += [branch(params.Fast, "fast: a preset", require=("preset",), drop=("style",)),
                branch(params.Fast, "fast: one style file", require=("style",), drop=("preset",))]
    stylize.append(named(branch(params.Translate, "translate: your model"), "model", translators))
    portrait = [named(b, "generator", generators) for b in (
        branch(params.Portrait, "preset, generated face", require=("preset",), drop=("style",) + FACE,
               engines=("fast",)),
        branch(params.Portrait, "preset, your photo", require=("preset", "photo"), drop=("style",) + PHOTO,
               engines=("fast",)),
        branch(params.Portrait, "style file, generated face", require=("style",), drop=("preset",) + FACE),
        branch(params.Portrait, "style file, your photo", require=("style", "photo"), drop=("preset",) + PHOTO))]
    stylize_form = create_model("StylizeForm", __doc__="One of the engines' field sets, told apart by `engine` "
                                "(absent: gatys).", __config__=ConfigDict(json_schema_extra=one_of(*stylize)),
                                engine=(str, ...))
    portrait_form = create_model("PortraitForm", __doc__="A style file or a preset (presets: engine fast); a "
                                 "generated face (seed, generator) or your photo.",
                                 __config__=ConfigDict(json_schema_extra=one_of(*portrait)), engine=(str, ...))
    return stylize_form, portrait_form, portrait[0]  # JSON and urlencoded bodies carry no files


class Idempotency(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    idempotency_key: Optional[str] = Field(None, alias="Idempotency-Key", pattern=IDEM_KEY, description=(
        "a retried submit with the same key (1-200 printable ASCII characters) returns the same job"))


class JobPath(BaseModel):
    job_id: str = Field(description="32 hex digits")


class ResultQuery(BaseModel):
    format: Literal["png", "jpeg", "jpg"] = "png"


class StylePath(BaseModel):
    style_id: int = Field(ge=0, le=params.PRESETS - 1)


# --- the operations -------------------------------------------------------------------------------------------------

def error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}}


ACCEPTED = {"description": "accepted: the job (Location is its URL)",
            "headers": {"Location": {"schema": {"type": "string"}, "description": "the job's URL"}},
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}}
SUBMIT = {202: ACCEPTED, 400: error("malformed body or Idempotency-Key"), 401: error("API key required"),
          413: error("upload, JSON body, form parts or decoded pixels over the limit"),
          415: error("not an accepted body type, or not an image"),
          422: error("a parameter outside the contract: the message names the field and its allowed values"),
          429: error("rate limited, or the queue is full (Retry-After)"),
          503: error("the queue, job store or storage is unavailable (Retry-After)")}
IMAGE = {"schema": {"type": "string", "format": "binary"}}


@lru_cache(maxsize=8)
def spec(generators: tuple[str, ...] = (), translators: tuple[str, ...] = ()) -> dict:
    """The document; `generators` and `translators` are the model names installed (GET /api/generators)."""
    StylizeForm, PortraitForm, portrait_fields = forms(generators, translators)
    doc = OpenAPI(__name__, info=Info(title="Neural art API", version="1.0.0", description=(
        "Style transfer (Gatys, fast networks, 26 presets, your own CycleGAN/pix2pix models) and GAN portraits "
        "(the bundled face generator, your own trained DCGAN, or your own photo) as jobs: submit, poll, fetch.")),
        doc_ui=False, security_schemes={"bearer": {"type": "http", "scheme": "bearer",
                                                   "description": "only when the server sets API_KEYS"}})
    api = APIBlueprint("api", __name__, url_prefix="/api", abp_security=[{}, {"bearer": []}])
    jobs, info = Tag(name="jobs"), Tag(name="info")

    @api.post("/stylize", summary="Stylise a photo (multipart)", tags=[jobs], responses=SUBMIT)
    def stylize(form: StylizeForm, header: Idempotency): ...

    @api.post("/portrait", summary="A portrait: a GAN face or your photo, painted", tags=[jobs], responses=SUBMIT)
    def portrait(form: PortraitForm, header: Idempotency): ...

    @api.get("/jobs/<job_id>", summary="A job's status, progress and params", tags=[jobs],
             responses={200: Job, 404: error("no such job (or expired)")})
    def job(path: JobPath): ...

    @api.get("/jobs/<job_id>/result", summary="The result image (once succeeded)", tags=[jobs], responses={
        200: {"description": "the image", "content": {"image/png": IMAGE, "image/jpeg": IMAGE}},
        404: error("no such job, or its result expired"), 409: error("not succeeded (yet)"),
        422: error("format is not png or jpeg")})
    def result(path: JobPath, query: ResultQuery): ...

    @api.get("/jobs/<job_id>/preview", summary="The latest snapshot (a portrait's raw face first)", tags=[jobs],
             responses={200: {"description": "JPEG", "content": {"image/jpeg": IMAGE}},
                        404: error("no such job, or its preview expired"), 409: error("no snapshot yet")})
    def preview(path: JobPath): ...

    @api.get("/jobs/<job_id>/face", summary="A portrait's face before painting (the aligned photo crop or the "
             "upscaled GAN face)", tags=[jobs], responses={
                 200: {"description": "PNG", "content": {"image/png": IMAGE}},
                 404: error("no such job, or its face expired"), 409: error("not a portrait, or not succeeded")})
    def face(path: JobPath): ...

    @api.get("/jobs/<job_id>/content", summary="The photo the job was made from, as stored", tags=[jobs],
             responses={200: {"description": "PNG", "content": {"image/png": IMAGE}},
                        404: error("no such job, no photo (a generated portrait), or it expired")})
    def content(path: JobPath): ...

    @api.post("/jobs/<job_id>/cancel", summary="Cancel: a queued job never starts, a running one stops within a "
              "step", tags=[jobs], responses={202: Job, 404: error("no such job"), 409: error("already ended")})
    def cancel(path: JobPath): ...

    @api.get("/styles", summary="The 26 presets", tags=[info], responses={200: Styles, 503: error("not built")})
    def styles(): ...

    @api.get("/styles/<int:style_id>.jpg", summary="A preset's thumbnail", tags=[info], responses={
        200: {"description": "JPEG", "content": {"image/jpeg": IMAGE}}, 404: error("no such preset"),
        503: error("the gallery is not built")})
    def thumbnail(path: StylePath): ...

    @api.get("/generators", summary="Your trained DCGANs (portrait `generator`) and translate models (stylize "
             "engine=translate, `model`)", tags=[info], responses={200: Generators})
    def generators(): ...

    @api.get("/health", summary="Broker, job store, disk, workers, queue depth", tags=[info], security=[{}],
             responses={200: Health, 503: Health})
    def health(): ...

    @api.get("/snack", summary="The fields of the Open in Expo Snack form", tags=[info], responses={200: Snack})
    def snack(): ...

    doc.register_api(api)
    out = doc.api_doc
    body = out["paths"]["/api/portrait"]["post"]["requestBody"]
    body["content"].update({kind: {"schema": portrait_fields} for kind in
                            ("application/json", "application/x-www-form-urlencoded")})
    schemas = out["components"]["schemas"]
    schemas.pop("ValidationErrorModel", None)
    error_schema = Error.model_json_schema(ref_template=REF)
    schemas.update(error_schema.pop("$defs"), Error=error_schema)
    for name in ("StylizeForm", "PortraitForm"):
        schemas[name] = {k: v for k, v in schemas[name].items() if k in ("title", "description", "type",
                                                                          "properties", "oneOf")}
    for path, name in (("/api/stylize", "StylizeForm"), ("/api/portrait", "PortraitForm")):  # inline: one read
        out["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"] = schemas.pop(name)
    for ops in out["paths"].values():
        for op in ops.values():
            if op["responses"].get("422", {}).get("content", {}).get("application/json", {}).get(
                    "schema", {}).get("type") == "array":  # flask-openapi3's own 422: not this API's
                del op["responses"]["422"]
    return out


@bp.get("/openapi.json")
def openapi():
    from app.generators import dcgans, translators
    return jsonify(spec(tuple(r["name"] for r in dcgans()), tuple(r["name"] for r in translators())))


PAGE = swagger_templates.swagger_html_string.replace("<head>", '<head>\n    <base href="{{ base }}">', 1)


@bp.get("/docs")
def docs():
    from flask import url_for
    return render_template_string(PAGE, doc_url=url_for("docs.openapi"), base=url_for("docs_ui.static",
                                  filename=""), swagger_config=None, oauth_config=None)
