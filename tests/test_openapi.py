"""The OpenAPI document is generated from the request contract (worker/params.py) by flask-openapi3, the docs page
comes from the flask-openapi3-swagger wheel, and schemathesis (checks: all) finds no request the document and the
server disagree on.

Schemathesis runs against the Flask app in-process (from_wsgi) with the enqueue faked, not a live gunicorn: what it
checks is the HTTP contract (validation, status codes, response shapes, headers, methods), which is the same app
either way, and in-process it is deterministic and quick on 2 cores. tests/test_openapi_live.py runs the same cases
against the live server (gunicorn + a Celery worker).
"""
from __future__ import annotations

import io
import json
import re
import tempfile
import uuid
from pathlib import Path

import pytest
import schemathesis
from PIL import Image
from schemathesis.config import SchemathesisConfig

from app import create_app, docs
from tests.test_api_generators import add_generator, add_translator
from worker import params

ENGINES = {"gatys": params.Gatys, "fast": params.Fast, "translate": params.Translate}


@pytest.fixture
def client(tmp_path, monkeypatch):
    for name in ("API_KEYS", "REDIS_URL", "CORS_ORIGINS"):
        monkeypatch.delenv(name, raising=False)
    sent = []
    app = create_app({"VAR_DIR": str(tmp_path), "RATE_LIMIT": "", "RATE_LIMIT_SUBMIT": "", "QUEUE_CAP": 10**9,
                      "ENQUEUE": lambda *a: sent.append(a)})
    c = app.test_client()
    c.sent = sent
    return c


def form(spec: dict, path: str) -> dict:
    return spec["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]


def branches(spec: dict, form_name: str) -> dict[str, dict]:
    path = {"StylizeForm": "/api/stylize", "PortraitForm": "/api/portrait"}[form_name]
    return {b["title"]: b for b in form(spec, path)["oneOf"]}


def test_every_request_field_shows_its_range_and_default(client):
    spec = client.get("/api/openapi.json").json
    forms = {**branches(spec, "StylizeForm"), **branches(spec, "PortraitForm")}
    assert {"gatys: 1 style file(s)", "fast: a preset", "fast: one style file", "preset, your photo"} <= set(forms)
    for title, branch in forms.items():
        for name, prop in branch["properties"].items():
            assert prop.get("description"), (title, name)
            if prop.get("type") in ("integer", "number") and "enum" not in prop:
                assert "minimum" in prop and "maximum" in prop, (title, name)
    # the docs page lists the top-level fields: every field of every engine, its default in the description
    listed = form(spec, "/api/stylize")["properties"]
    assert set(listed) == {f for m in ENGINES.values() for f in (*m.model_fields, *m.files)}
    installed = [r["name"] for r in client.get("/api/generators").json["translate"]]
    assert listed["model"].get("enum", []) == installed  # the installed translate models, when there are some
    steps = params.Gatys.model_fields["steps"].default
    assert f"(default {steps})" in listed["steps"]["description"] and listed["size"]["minimum"] == min(
        params.MIN_SIZE[e] for e in ENGINES)
    gatys = forms["gatys: 1 style file(s)"]["properties"]
    for name, field in params.Gatys.model_fields.items():  # the contract's defaults and bounds, as they are
        if field.default is not None and not callable(field.default_factory):
            assert gatys[name]["default"] == field.default, name
    assert gatys["steps"]["maximum"] == params.MAX_STEPS and gatys["size"]["minimum"] == params.MIN_SIZE["gatys"]
    assert forms["fast: a preset"]["properties"]["size"]["minimum"] == params.MIN_SIZE["fast"]
    assert forms["preset, your photo"]["properties"]["size"]["minimum"] == params.MIN_SIZE["portrait"]


def test_cross_field_rules_are_in_the_document(client):
    spec = client.get("/api/openapi.json").json
    stylize = branches(spec, "StylizeForm")
    assert stylize["fast: a preset"]["required"] == ["content", "engine", "preset"]
    assert "style" not in stylize["fast: a preset"]["properties"]
    assert "preset" not in stylize["fast: one style file"]["properties"]
    assert all(b["additionalProperties"] is False for b in stylize.values())
    assert "model" not in stylize["gatys: 1 style file(s)"]["properties"]  # model only with engine=translate
    portrait = branches(spec, "PortraitForm")
    photo = portrait["preset, your photo"]
    assert "photo" in photo["required"] and "seed" not in photo["properties"]  # photo xor seed
    assert photo["properties"]["engine"]["enum"] == ["fast"]  # a preset paints with engine=fast only
    assert "photo" not in portrait["preset, generated face"]["properties"]
    body = spec["paths"]["/api/portrait"]["post"]["requestBody"]["content"]
    assert set(body) == {"multipart/form-data", "application/json", "application/x-www-form-urlencoded"}
    key = spec["paths"]["/api/stylize"]["post"]["parameters"][0]
    assert key["name"] == "Idempotency-Key" and "\\x21-\\x7e" in key["schema"]["anyOf"][0]["pattern"]


def test_every_response_shape_is_documented(client):
    spec = client.get("/api/openapi.json").json
    schemas = spec["components"]["schemas"]
    assert {"Job", "Error", "Styles", "Generators", "Health", "Snack"} <= set(schemas)
    assert "oneOf" in form(spec, "/api/stylize") and "oneOf" in form(spec, "/api/portrait")
    for path, ops in spec["paths"].items():
        for op in ops.values():
            for status, resp in op["responses"].items():
                assert resp.get("content") or status == "204", (path, status)


def test_docs_page_comes_from_the_wheel_with_no_cdn(client):
    page = client.get("/api/docs")
    assert page.status_code == 200 and b"openapi.json" in page.data
    html = page.data.decode()
    assert not re.search(r"""(src|href)=["']https?://""", html)  # nothing from another host
    base = re.search(r'<base href="([^"]+)"', html).group(1)
    for asset in re.findall(r"""(?:src|href)=["'](swagger/[^"']+)""", html):
        r = client.get(base + asset)
        assert r.status_code == 200 and len(r.data) > 100, asset


def test_a_field_added_to_the_contract_reaches_the_document(client, monkeypatch):
    from pydantic import Field
    from app import docs

    class Fast(params.Fast):
        tint: float = Field(0.0, ge=0, le=1, description="a new knob")

    monkeypatch.setitem(params.ENGINES["stylize"], "fast", Fast)
    monkeypatch.setattr(params, "Fast", Fast)
    docs.spec.cache_clear()
    try:
        prop = branches(client.get("/api/openapi.json").json, "StylizeForm")["fast: a preset"]["properties"]["tint"]
        assert (prop["minimum"], prop["maximum"], prop["default"]) == (0, 1, 0.0)
    finally:
        docs.spec.cache_clear()


# --- schemathesis: the document and the server agree ----------------------------------------------------------------

def png(size, color) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


IMAGES = [png((64, 48), (200, 30, 40)), png((40, 40), (10, 120, 200))]


@schemathesis.hook
def map_body(ctx, body):
    """An upload field is "an image file": JSON Schema can say binary, not "decodes as an image", so each file the
    fuzzer draws carries a small real image (a field mutated to another type is left as drawn)."""
    def image(v, i=0):
        if isinstance(v, list):
            return [image(x, j) for j, x in enumerate(v)]
        return type(v)(IMAGES[i % 2]) if isinstance(getattr(v, "data", None), bytes) else v
    return {k: image(v) for k, v in body.items()} if isinstance(body, dict) else body

CONFIG = SchemathesisConfig.from_dict({
    # Schemathesis can seed bodies with literals it finds in the app's source; it adds them to multipart bodies
    # without honouring the body's oneOf (e.g. model=vintage beside engine=gatys), and then calls the result
    # "schema-valid". Off: every generated case follows the document.
    "analysis": {"constants": {"enabled": False}},
    "generation": {"mode": "all", "max-examples": 25, "database": "none"},
})


# Built at import: schemathesis's lazy pytest fixture (from_fixture) reads a node attribute pytest 9 no longer has.
# Its models folder holds a trained generator and a translate model, so `generator` and `model` list real names,
# and the preset gallery (thumbnails), as `models fetch` leaves it.
VAR = Path(tempfile.mkdtemp(prefix="openapi-test-"))
add_generator(VAR / "models", "faces")
add_translator(VAR / "models", "monet")
(VAR / "models" / "thumbnails").mkdir()
(VAR / "models" / "thumbnails" / "index.json").write_text(json.dumps(
    [{"id": i, "name": f"Style {i}", "file": f"{i}.jpg"} for i in range(params.PRESETS)]))
for i in range(params.PRESETS):
    Image.new("RGB", (8, 8), (i * 9, 80, 160)).save(VAR / "models" / "thumbnails" / f"{i}.jpg")
API = create_app({"VAR_DIR": str(VAR), "MODELS_DIR": str(VAR / "models"), "API_KEYS": "", "REDIS_URL": "",
                  "CORS_ORIGINS": "", "RATE_LIMIT": "", "RATE_LIMIT_SUBMIT": "", "QUEUE_CAP": 10**9,
                  "ENQUEUE": lambda *a: None})
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", API, config=CONFIG)


@schema.parametrize()
def test_schemathesis_finds_no_mismatch(case):
    # An Idempotency-Key names one request: the fuzzer draws the same few keys for different bodies, which the
    # server rightly refuses (idempotency_key_reused). A well-formed key is made unique per case; malformed ones
    # (negative cases) are sent as drawn. tests/test_api.py covers the replay itself.
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and re.fullmatch(docs.IDEM_KEY, key):
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
    case.call_and_validate()  # every check enabled: checks: all is the default set
