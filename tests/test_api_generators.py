"""The user's own models through the API, with a fake engine: GET /api/generators, `generator` on /api/portrait,
engine=translate + `model` on /api/stylize (validation, the queue, and what reaches the engine)."""
from __future__ import annotations

import json
import os

import pytest

from tests import fake_engine
from tests.service_util import image_bytes
from tests.test_api import client, make, post, var  # noqa: F401 (the same fixtures as the API tests)
from worker import params, queue, tasks
from worker.job_store import get_store

OK = image_bytes()


def add_generator(models, name, **conf):
    d = models / "generators" / name
    d.mkdir(parents=True)
    (d / "config.json").write_text(json.dumps({"family": "dcgan", "nz": 100, "ngf": 8, "size": 64, "step": 40,
                                               "epochs": 2, "images": 200, "created": "2025-01-02T03:04:05Z",
                                               "data": "/home/someone/private/photos", **conf}))
    (d / "weights.safetensors").write_bytes(b"not read by the API")


def add_translator(models, name, ext=".safetensors", sidecar=None):
    d = models / "translate"
    d.mkdir(parents=True, exist_ok=True)
    (d / f"{name}{ext}").write_bytes(b"x" * 10)
    if sidecar is not None:
        (d / f"{name}.json").write_text(json.dumps(sidecar))


@pytest.fixture
def models(var):
    m = var / "models"
    add_generator(m, "paintings")
    add_generator(m, "abstract", size=32)
    add_translator(m, "monet", sidecar={"family": "resnet", "direction": "A->B", "size": 256, "step": 900,
                                        "n_blocks": 9})
    add_translator(m, "edges2shoes", ext=".pth")
    os.utime(m / "translate" / "edges2shoes.pth", (1_700_000_000, 1_700_000_000))
    return m


# --- GET /api/generators --------------------------------------------------------------------------------------

def test_listing_is_empty_without_models(client):
    r = client.get("/api/generators")
    assert r.status_code == 200 and r.json == {"generators": [], "translate": []}


def test_listing_names_family_size_created(client, models):
    (models / "generators" / "half-trained").mkdir()  # no weights yet: not usable, not listed
    (models / "generators" / "other").mkdir()
    (models / "generators" / "other" / "config.json").write_text(json.dumps({"family": "wgan"}))
    (models / "generators" / "other" / "weights.safetensors").write_bytes(b"x")
    r = client.get("/api/generators").json
    assert r["generators"] == [
        {"name": "abstract", "family": "dcgan", "size": 32, "created": "2025-01-02T03:04:05Z", "step": 40,
         "epochs": 2, "images": 200, "nz": 100, "ngf": 8},
        {"name": "paintings", "family": "dcgan", "size": 64, "created": "2025-01-02T03:04:05Z", "step": 40,
         "epochs": 2, "images": 200, "nz": 100, "ngf": 8}]
    assert "/home/someone" not in json.dumps(r)  # a config's server paths stay on the server
    assert r["translate"] == [
        {"name": "edges2shoes", "family": None, "direction": None, "size": None,
         "created": "2023-11-14T22:13:20Z", "step": None, "bytes": 10},  # dropped in: the file's time
        {"name": "monet", "family": "resnet", "direction": "A->B", "size": 256,
         "created": r["translate"][1]["created"], "step": 900, "bytes": 10}]
    assert r["translate"][1]["created"]


# --- POST /api/portrait generator=NAME --------------------------------------------------------------------------

def test_portrait_generator_reaches_the_engine(client, models):
    r = client.post("/api/portrait", json={"seed": 3, "preset": 1, "generator": "paintings"})
    assert r.status_code == 202, r.json
    assert r.json["params"] == {"seed": 3, "engine": "fast", "size": 512, "preset": 1, "generator": "paintings",
                                "face_strength": params.Portrait.model_fields["face_strength"].default}
    assert client.sent == [(queue.PORTRAIT, r.json["id"], queue.SLOW_QUEUE)]
    assert tasks.run_job(r.json["id"]) == "succeeded"
    assert fake_engine.CALLS[-1]["generator"] == "paintings" and fake_engine.CALLS[-1]["args"] == (3, None)

    form = post(client, "/api/portrait", seed="4", preset="2", generator="abstract")
    assert form.status_code == 202 and form.json["params"]["generator"] == "abstract"


def test_portrait_without_generator_uses_the_bundled_one(client, models):
    r = client.post("/api/portrait", json={"seed": 3, "preset": 1})
    assert r.status_code == 202 and "generator" not in r.json["params"]
    assert tasks.run_job(r.json["id"]) == "succeeded"
    assert "generator" not in fake_engine.CALLS[-1]  # the engine's default: the bundled face generator


@pytest.mark.parametrize("value,code", [("nope", "unknown_generator"), ("../paintings", "invalid_parameter"),
                                        (7, "invalid_parameter"), ("monet", "unknown_generator")])
def test_portrait_bad_generator_is_422_naming_the_available_ones(client, models, value, code):
    r = client.post("/api/portrait", json={"preset": 1, "generator": value})
    assert r.status_code == 422 and r.json["error"]["code"] == code, r.json
    assert r.json["error"]["field"] == "generator" and r.json["error"]["available"] == ["abstract", "paintings"]
    if code == "unknown_generator":
        assert "abstract, paintings" in r.json["error"]["message"]
    assert client.sent == [] and get_store().queue_depth() == 0


def test_portrait_generator_when_none_are_trained(client):
    r = client.post("/api/portrait", json={"preset": 1, "generator": "mine"})
    assert r.status_code == 422 and "train-gan" in r.json["error"]["message"]


# --- POST /api/stylize engine=translate model=NAME --------------------------------------------------------------

def test_translate_job_goes_to_the_fast_queue_and_reaches_the_engine(client, models):
    r = post(client, content=image_bytes(size=(40, 30)), engine="translate", model="monet", size="256")
    assert r.status_code == 202, r.json
    assert r.json["params"] == {"engine": "translate", "size": 256, "model": "monet"}
    assert client.sent == [(queue.STYLIZE, r.json["id"], queue.FAST_QUEUE)]
    assert tasks.run_job(r.json["id"]) == "succeeded"
    call = fake_engine.CALLS[-1]
    assert call["model"] == "monet" and call["size"] == 256
    assert len(call["args"]) == 1 and call["args"][0].size == (40, 30)  # the content only, no styles
    assert client.get(r.json["urls"]["result"]).status_code == 200
    pth = post(client, content=OK, engine="translate", model="edges2shoes")
    assert pth.status_code == 202 and pth.json["params"]["size"] == 512


def test_translate_engine_error_fails_the_job_clearly(client, models):
    r = post(client, content=OK, engine="translate", model="monet")
    fake_engine.RAISE.append(ValueError("monet.safetensors is not a readable safetensors file"))
    assert tasks.run_job(r.json["id"]) == "failed"
    assert client.get(r.json["urls"]["get"]).json["error"]["code"] == "invalid_params"


BAD_TRANSLATE = [
    ("no model", dict(engine="translate"), "model_required", "edges2shoes, monet"),
    ("unknown model", dict(engine="translate", model="vangogh"), "unknown_model", "edges2shoes, monet"),
    ("generator not model", dict(engine="translate", model="paintings"), "unknown_model", "edges2shoes, monet"),
    ("path tricks", dict(engine="translate", model="../monet"), "invalid_parameter", "letters, digits"),
    ("with style", dict(engine="translate", model="monet", style=OK), "not_for_engine", "style"),
    ("with preset", dict(engine="translate", model="monet", preset="3"), "not_for_engine", "preset"),
    ("with steps", dict(engine="translate", model="monet", steps="3"), "not_for_engine", "steps"),
    ("with preserve_color", dict(engine="translate", model="monet", preserve_color="1"), "not_for_engine",
     "preserve_color"),
    ("model with fast", dict(engine="fast", preset="1", model="monet"), "not_for_engine", "engine=translate"),
    ("model with gatys", dict(style=OK, model="monet"), "not_for_engine", "engine=translate"),
    ("size too big", dict(engine="translate", model="monet", size="99999"), "invalid_parameter", "size"),
]


@pytest.mark.parametrize("fields,code,named", [c[1:] for c in BAD_TRANSLATE], ids=[c[0] for c in BAD_TRANSLATE])
def test_bad_translate_input_is_a_clear_422(client, models, fields, code, named):
    r = post(client, content=OK, **fields)
    assert (r.status_code, r.json["error"]["code"]) == (422, code), r.json
    assert named in r.json["error"]["message"] and client.sent == []


def test_translate_without_any_models_says_where_to_put_one(client):
    r = post(client, content=OK, engine="translate", model="monet")
    assert r.status_code == 422 and "MODELS_DIR/translate" in r.json["error"]["message"]


def test_openapi_describes_generators_translate_and_generator(client):
    spec = client.get("/api/openapi.json").json
    assert "/api/generators" in spec["paths"]
    stylize = spec["paths"]["/api/stylize"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert "translate" in stylize["properties"]["engine"]["enum"] and "model" in stylize["properties"]
    portrait = spec["paths"]["/api/portrait"]["post"]["requestBody"]["content"]
    assert all("generator" in portrait[t]["schema"]["properties"] for t in portrait)
