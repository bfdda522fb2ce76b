"""The app's jest fixtures (mobile/__tests__/fixtures/*.json) are real answers of this API: each is recorded here
from the Flask app (fake engine, real routes and serialisation) and compared by shape, so a field the server
renames, drops or adds fails this test until the fixtures (and the app's tests that read them) are updated.

Regenerate after an intended API change: UPDATE_FIXTURES=1 .venv/bin/python -m pytest tests/test_app_fixtures.py
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests import fake_engine
from tests.service_util import image_bytes
from tests.test_api import make, post, var  # noqa: F401 (the same fixtures as the API tests)
from worker import tasks

FIXTURES = Path(__file__).resolve().parent.parent / "mobile" / "__tests__" / "fixtures"


def shape(v):
    """Keys and JSON types, recursively; a list by its first item. None matches any type (see same())."""
    if isinstance(v, dict):
        return {k: shape(x) for k, x in v.items()}
    if isinstance(v, list):
        return [shape(v[0])] if v else []
    if v is None:
        return None
    return {bool: "boolean", int: "number", float: "number", str: "string"}[type(v)]


def same(a, b, path="$") -> list[str]:
    if a is None or b is None:
        return []
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}.{k}: only in the fixture" for k in a.keys() - b.keys()]
        out += [f"{path}.{k}: only in the server's answer" for k in b.keys() - a.keys()]
        return out + [m for k in a.keys() & b.keys() for m in same(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        return same(a[0], b[0], path + "[0]") if a and b else []
    return [] if a == b else [f"{path}: {a} in the fixture, {b} from the server"]


@pytest.fixture
def answers(make, models_dir):  # noqa: F811
    """name -> the JSON the real routes answer, for every state the app's tests mock."""
    client = make(MODELS_DIR=str(models_dir))
    out = {"styles": client.get("/api/styles").json, "health": client.get("/api/health").json,
           "generators": client.get("/api/generators").json}
    queued = post(client, content=image_bytes(), engine="fast", preset="3", size="256")
    assert queued.status_code == 202, queued.json
    out["job_queued"] = queued.json
    jid = queued.json["id"]

    def at_step(step):
        if step == 2:
            out["job_running"] = client.get(f"/api/jobs/{jid}").json
    fake_engine.HOOK = at_step
    assert tasks.run_job(jid) == "succeeded"
    fake_engine.HOOK = None
    out["job_succeeded"] = client.get(f"/api/jobs/{jid}").json
    portrait = client.post("/api/portrait", json={"seed": 42, "preset": 5})
    assert tasks.run_job(portrait.json["id"]) == "succeeded"
    out["portrait_succeeded"] = client.get(f"/api/jobs/{portrait.json['id']}").json
    out["error_steps"] = post(client, content=image_bytes(), style=image_bytes(), steps="5000").json
    out["error_image"] = post(client, content=b"not an image", engine="fast", preset="3").json
    # the request contract the app builds its settings from: the two endpoints' multipart schemas, $refs resolved
    doc = client.get("/api/openapi.json").json
    out["contract"] = {"paths": {p: {"post": {"requestBody": {"content": {"multipart/form-data": {
        "schema": form_schema(doc, p)}}}}} for p in FORMS}}
    return out


FORMS = ("/api/stylize", "/api/portrait")


def form_schema(doc, path):
    schema = doc["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    if "$ref" in schema:
        for key in schema["$ref"].lstrip("#/").split("/"):
            doc = doc[key]
        schema = doc
    return schema


def fields_by_form(doc) -> dict:
    """A JSON Schema is compared by what the app reads from it: each form's engines and their field names."""
    out = {}
    for form in FORMS:
        for branch in form_schema(doc, form)["oneOf"]:
            props = branch["properties"]
            engine = props["engine"].get("const", props["engine"].get("default"))
            out.setdefault(f"{form}.{engine}", set()).update(props)
    return {k: sorted(v) for k, v in out.items()}


def test_fixtures_match_the_servers_answers(answers):
    if os.environ.get("UPDATE_FIXTURES"):
        FIXTURES.mkdir(exist_ok=True)
        for name, body in answers.items():
            (FIXTURES / f"{name}.json").write_text(json.dumps(body, indent=2) + "\n")
    problems = []
    for name, body in answers.items():
        path = FIXTURES / f"{name}.json"
        if not path.is_file():
            problems.append(f"{path.name}: missing")
            continue
        recorded = json.loads(path.read_text())
        if name == "contract":
            recorded, body = fields_by_form(recorded), fields_by_form(body)
            problems += [f"{path.name}: {k} fields {recorded.get(k)} recorded, {body.get(k)} served"
                         for k in recorded.keys() | body.keys() if recorded.get(k) != body.get(k)]
            continue
        problems += [f"{path.name} {m}" for m in same(shape(recorded), shape(body))]
    assert not problems, ("the app's fixtures no longer match the API (regenerate with UPDATE_FIXTURES=1, then "
                          "fix the app and its tests):\n" + "\n".join(problems))
    assert answers["job_running"]["status"] == "running" and answers["error_steps"]["error"]["field"] == "steps"


def test_a_drift_is_caught():
    """The comparison itself: a renamed or retyped field is reported, a null does not pin a type."""
    fixture = {"workers": [{"count": 2}], "eta": None, "a": "x"}
    assert same(shape(fixture), shape({"workers": {"count": 2}, "eta": 3.5, "a": "y"})) == [
        "$.workers: [{'count': 'number'}] in the fixture, {'count': 'number'} from the server"]
    assert same(shape({"thumbnail": "/x"}), shape({"thumbnail_url": "/x"})) == [
        "$.thumbnail: only in the fixture", "$.thumbnail_url: only in the server's answer"]
