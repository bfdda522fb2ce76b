"""The API with a fake engine: submit -> record -> (task run in-process) -> status/result; every 4xx path."""
from __future__ import annotations

import io
import json
import time

import pytest
from PIL import Image

from app import create_app
from tests import fake_engine
from tests.service_util import (exif_with_gps_and_rotation, gif_two_frames, heic_bytes, image_bytes,
                                png_header_only)
from worker import params as contract, presets, queue, tasks
from worker.job_store import get_store


@pytest.fixture
def var(tmp_path, monkeypatch):
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    for name in ("REDIS_URL", "MEDIA_DIR", "STORAGE", "API_KEYS", "CORS_ORIGINS", "RATE_LIMIT",
                 "RATE_LIMIT_SUBMIT", "QUEUE_CAP", "MAX_UPLOAD_MB"):
        monkeypatch.delenv(name, raising=False)
    fake_engine.reset()
    monkeypatch.setattr(tasks, "ENGINES", {name: "tests.fake_engine" for name in tasks.ENGINES})
    return tmp_path


@pytest.fixture
def make(var):
    def build(**cfg):
        sent = []
        app = create_app({"VAR_DIR": str(var), "MODELS_DIR": str(var / "models"), "RATE_LIMIT": "",
                          "RATE_LIMIT_SUBMIT": "", "ENQUEUE": lambda *a: sent.append(a), **cfg})
        client = app.test_client()
        client.sent, client.app = sent, app
        return client
    return build


@pytest.fixture
def client(make):
    return make()


def files(**fields):
    """Multipart data: bytes become uploads, lists repeat a field, str stays a text field."""
    data = {}
    for name, value in fields.items():
        if isinstance(value, bytes):
            data[name] = (io.BytesIO(value), f"{name}.bin")
        elif isinstance(value, list):
            data[name] = [(io.BytesIO(v), f"{name}{i}.bin") for i, v in enumerate(value)]
        else:
            data[name] = value
    return data


def post(client, path="/api/stylize", headers=None, **fields):
    return client.post(path, data=files(**fields), content_type="multipart/form-data", headers=headers or {})


def submit_ok(client, **fields):
    fields.setdefault("content", image_bytes())
    if "preset" not in fields:
        fields.setdefault("style", image_bytes(color=(200, 10, 10)))
    r = post(client, **fields)
    assert r.status_code == 202, r.json
    return r.json


# --- the happy path -------------------------------------------------------------------------------------------

def test_stylize_gatys_job_lifecycle(client):
    r = post(client, content=image_bytes(), style=image_bytes(color=(200, 0, 0)), steps="3", seed="7")
    assert r.status_code == 202
    job = r.json
    assert r.headers["Location"] == f"/api/jobs/{job['id']}"
    assert job["status"] == "queued" and job["queue_position"] == 1 and job["kind"] == "stylize"
    assert job["params"]["engine"] == "gatys" and job["params"]["seed"] == 7 and job["params"]["size"] == 512
    assert job["urls"] == {k: f"/api/jobs/{job['id']}" + s for k, s in
                           (("get", ""), ("result", "/result"), ("preview", "/preview"), ("cancel", "/cancel"),
                            ("content", "/content"))}
    assert client.sent == [(queue.STYLIZE, job["id"], queue.SLOW_QUEUE)]
    assert client.get(job["urls"]["result"]).status_code == 409

    assert tasks.run_job(job["id"]) == "succeeded"
    call = fake_engine.CALLS[0]
    assert call["steps"] == 3 and call["seed"] == 7 and len(call["args"][1]) == 1  # content, [style]
    done = client.get(job["urls"]["get"]).json
    assert done["status"] == "succeeded" and done["progress"] == {"step": 3, "total": 3, "fraction": 1.0}
    assert done["started_at"] and done["finished_at"] and done["error"] is None and done["queue_position"] is None
    # the record's params are the effective ones: the engine's defaults fill what the client left out
    assert done["params"]["steps"] == 3 and done["params"]["seed"] == 7
    assert done["params"]["style_weight"] == fake_engine.DEFAULTS["style_weight"]
    assert done["params"]["tv_weight"] == fake_engine.DEFAULTS["tv_weight"] and done["params"]["style_weights"] == [1.0]
    res = client.get(job["urls"]["result"])
    assert res.status_code == 200 and res.mimetype == "image/png"
    img = Image.open(io.BytesIO(res.data))
    assert img.size == (512, 384) and not img.getexif() and not img.info.get("exif")
    jpg = client.get(job["urls"]["result"] + "?format=jpeg")
    assert jpg.mimetype == "image/jpeg" and not Image.open(io.BytesIO(jpg.data)).getexif()
    prev = client.get(job["urls"]["preview"])
    assert prev.status_code == 200 and prev.mimetype == "image/jpeg"


def test_fast_jobs_go_to_the_fast_queue_and_pass_the_preset(client):
    job = submit_ok(client, engine="fast", preset="3:0.5, 12:0.5", strength="0.5", size="256")
    assert client.sent == [(queue.STYLIZE, job["id"], queue.FAST_QUEUE)]
    assert job["params"] == {"engine": "fast", "size": 256, "preserve_color": False, "preset": "3:0.5,12:0.5",
                             "strength": 0.5}
    assert tasks.run_job(job["id"]) == "succeeded"
    assert fake_engine.CALLS[0]["preset"] == "3:0.5,12:0.5" and fake_engine.CALLS[0]["args"][1] is None


def test_style_blend_passes_weights(client):
    job = submit_ok(client, style=[image_bytes(), image_bytes(color=(0, 0, 0))], style_weights="0.7,0.3")
    tasks.run_job(job["id"])
    assert fake_engine.CALLS[0]["style_weights"] == [0.7, 0.3] and len(fake_engine.CALLS[0]["args"][1]) == 2


def test_portrait_json_and_form(client):
    r = client.post("/api/portrait", json={"seed": 42, "preset": 5})
    assert r.status_code == 202, r.json
    assert r.json["params"] == {"seed": 42, "engine": "fast", "size": 512, "preset": 5,
                                "face_strength": contract.Portrait.model_fields["face_strength"].default}
    assert client.sent[-1] == (queue.PORTRAIT, r.json["id"], queue.SLOW_QUEUE)
    assert tasks.run_job(r.json["id"]) == "succeeded"
    assert fake_engine.CALLS[-1]["args"] == (42, None) and fake_engine.CALLS[-1]["preset"] == 5
    r2 = post(client, "/api/portrait", style=image_bytes(), size="128")
    assert r2.status_code == 202 and isinstance(r2.json["params"]["seed"], int)  # random seed, echoed


def test_idempotency_key_returns_the_same_job(client):
    h = {"Idempotency-Key": "abc-123"}
    a = post(client, headers=h, content=image_bytes(), style=image_bytes())
    b = post(client, headers=h, content=image_bytes(), style=image_bytes())
    assert a.status_code == b.status_code == 202 and a.json["id"] == b.json["id"]
    assert b.headers["Idempotent-Replayed"] == "true" and len(client.sent) == 1
    c = post(client, headers={"Idempotency-Key": "other"}, content=image_bytes(), style=image_bytes())
    assert c.json["id"] != a.json["id"]


def test_uploads_are_stored_upright_and_without_metadata(client):
    jpeg = image_bytes(size=(40, 30), exif=exif_with_gps_and_rotation())
    job = submit_ok(client, content=jpeg)
    media = client.app.extensions["media"]
    rec = get_store().get(job["id"])
    stored = Image.open(io.BytesIO(media.get(rec["inputs"]["content"])))
    assert stored.format == "PNG" and stored.size == (30, 40)  # orientation 6 applied
    assert not stored.getexif() and "exif" not in stored.info
    assert stored.getpixel((15, 2))[0] > 200 and stored.getpixel((15, 38))[0] < 100  # yellow stripe now on top


@pytest.mark.parametrize("maker", [lambda: image_bytes("PNG"), lambda: image_bytes("WEBP"),
                                   lambda: image_bytes("BMP"), lambda: image_bytes("TIFF"), gif_two_frames,
                                   heic_bytes], ids=["png", "webp", "bmp", "tiff", "gif", "heic"])
def test_allowed_formats_decode(client, maker):
    assert post(client, content=maker(), style=image_bytes()).status_code == 202


# --- cancel, terminal states, failures ------------------------------------------------------------------------

def test_cancel_queued_job_never_starts(client):
    job = submit_ok(client)
    r = client.post(job["urls"]["cancel"])
    assert r.status_code == 202 and r.json["status"] == "canceled"
    assert tasks.run_job(job["id"]) == "canceled" and fake_engine.CALLS == []
    assert client.post(job["urls"]["cancel"]).status_code == 409
    assert client.get(job["urls"]["result"]).json["error"]["status"] == "canceled"


def test_cancel_running_job_stops_within_a_step(client):
    job = submit_ok(client)
    fake_engine.STEPS = 50
    fake_engine.HOOK = lambda step: step == 2 and client.post(job["urls"]["cancel"])
    assert tasks.run_job(job["id"]) == "canceled"
    rec = client.get(job["urls"]["get"]).json
    assert rec["status"] == "canceled" and rec["progress"]["step"] == 1 and rec["error"]["code"] == "canceled"


def test_terminal_states_never_change(client):
    job = submit_ok(client)
    tasks.run_job(job["id"])
    store = get_store()
    store.update(job["id"], status="running")
    store.cancel(job["id"])
    store.start(job["id"], 1)
    assert store.get(job["id"])["status"] == "succeeded"
    assert tasks.run_job(job["id"]) == "succeeded" and len(fake_engine.CALLS) == 1  # a duplicate delivery


def oom():
    return RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")


@pytest.mark.parametrize("raised,status,code", [
    ([ValueError("init must be one of content, noise")], "failed", "invalid_params"),
    ([__import__("celery").exceptions.SoftTimeLimitExceeded()], "failed", "time_limit"),
    ([oom(), oom()], "failed", "out_of_memory"),
    ([KeyError("boom")], "failed", "internal"),
    ([type("ModelsMissing", (RuntimeError,), {})("run `python -m worker models fetch`")], "failed",
     "models_missing"),
])
def test_failures_end_with_a_clear_code(client, raised, status, code):
    job = submit_ok(client)
    fake_engine.RAISE.extend(raised)
    assert tasks.run_job(job["id"]) == status
    assert client.get(job["urls"]["get"]).json["error"]["code"] == code


def test_out_of_memory_retries_once_smaller(client):
    job = submit_ok(client, size="800")
    fake_engine.RAISE.append(oom())
    assert tasks.run_job(job["id"]) == "succeeded"
    assert [c["size"] for c in fake_engine.CALLS] == [800, 600]
    assert client.get(job["urls"]["get"]).json["params"]["size"] == 600


def test_redelivery_cap_fails_the_job(client, monkeypatch):
    monkeypatch.setenv("MAX_DELIVERIES", "2")
    job = submit_ok(client)
    store = get_store()
    store.start(job["id"], 1)
    store.start(job["id"], 2)  # two deliveries whose worker died
    assert tasks.run_job(job["id"]) == "failed"
    assert client.get(job["urls"]["get"]).json["error"]["code"] == "redelivery_limit" and not fake_engine.CALLS


def test_missing_input_fails_clearly(client):
    job = submit_ok(client)
    client.app.extensions["media"].delete_prefix(f"uploads/{job['id']}")
    assert tasks.run_job(job["id"]) == "failed"
    assert client.get(job["urls"]["get"]).json["error"]["code"] == "input_missing"


def test_running_job_reports_eta_and_queue_positions(client):
    a, b = submit_ok(client), submit_ok(client)
    assert client.get(b["urls"]["get"]).json["queue_position"] == 2
    store = get_store()
    store.start(a["id"], 1)
    store.update(a["id"], progress={"step": 2, "total": 10})
    ra = client.get(a["urls"]["get"]).json
    assert ra["status"] == "running" and ra["eta_seconds"] is not None and ra["progress"]["fraction"] == 0.2
    assert client.get(b["urls"]["get"]).json["queue_position"] == 1
    # the rate counts from the first progress report, not from the start (model loading comes before it)
    store.update(a["id"], progress={"step": 3, "total": 10, "since": [time.time() - 10, 1]})
    assert 34 <= client.get(a["urls"]["get"]).json["eta_seconds"] <= 36


# --- every 4xx path, never a 5xx ------------------------------------------------------------------------------

OK = image_bytes()
BAD_STYLIZE = [
    ("no content", dict(style=OK), 422, "content_required"),
    ("content as text", dict(content="hello", style=OK), 422, "file_required"),
    ("style as text", dict(content=OK, style="x"), 422, "file_required"),
    ("two contents", dict(content=[OK, OK], style=OK), 422, "content_required"),
    ("not an image", dict(content=b"GIF89a-not-really", style=OK), 415, "unsupported_image"),
    ("svg", dict(content=b"<svg xmlns='http://www.w3.org/2000/svg'/>", style=OK), 415, "unsupported_image"),
    ("empty file", dict(content=b"", style=OK), 422, "empty_file"),
    ("truncated png", dict(content=image_bytes("PNG")[:60], style=OK), 422, "invalid_image"),
    ("bomb", dict(content=png_header_only(30000, 30000), style=OK), 413, "too_many_pixels"),
    ("bad engine", dict(content=OK, style=OK, engine="dream"), 422, "invalid_parameter"),
    ("size too big", dict(content=OK, style=OK, size="99999"), 422, "invalid_parameter"),
    ("size text", dict(content=OK, style=OK, size="big"), 422, "invalid_parameter"),
    ("steps zero", dict(content=OK, style=OK, steps="0"), 422, "invalid_parameter"),
    ("weight nan", dict(content=OK, style=OK, style_weight="nan"), 422, "invalid_parameter"),
    ("bad bool", dict(content=OK, style=OK, preserve_color="maybe"), 422, "invalid_parameter"),
    ("bad init", dict(content=OK, style=OK, init="random"), 422, "invalid_parameter"),
    ("negative seed", dict(content=OK, style=OK, seed="-1"), 422, "invalid_parameter"),
    ("weights count", dict(content=OK, style=[OK, OK], style_weights="1"), 422, "invalid_parameter"),
    ("weights zero", dict(content=OK, style=OK, style_weights="0"), 422, "invalid_parameter"),
    ("too many styles", dict(content=OK, style=[OK] * 5), 422, "too_many_styles"),
    ("no style", dict(content=OK), 422, "style_required"),
    ("preset with gatys", dict(content=OK, preset="3"), 422, "preset_needs_fast"),
    ("preset 26", dict(content=OK, engine="fast", preset="26"), 422, "invalid_parameter"),
    ("preset junk", dict(content=OK, engine="fast", preset="3;0.5"), 422, "invalid_parameter"),
    ("blend id 40", dict(content=OK, engine="fast", preset="40:1"), 422, "invalid_parameter"),
    ("blend zero", dict(content=OK, engine="fast", preset="1:0,2:0"), 422, "invalid_parameter"),
    ("fast both", dict(content=OK, engine="fast", preset="1", style=OK), 422, "style_or_preset"),
    ("fast neither", dict(content=OK, engine="fast"), 422, "style_or_preset"),
    ("fast two styles", dict(content=OK, engine="fast", style=[OK, OK]), 422, "style_or_preset"),
    ("strength high", dict(content=OK, engine="fast", preset="1", strength="2"), 422, "invalid_parameter"),
    ("steps with fast", dict(content=OK, engine="fast", preset="1", steps="5"), 422, "not_for_engine"),
    ("strength with gatys", dict(content=OK, style=OK, strength="0.5"), 422, "not_for_engine"),
    ("unknown field", dict(content=OK, style=OK, colour="red"), 422, "unknown_field"),
]


@pytest.mark.parametrize("fields,status,code", [c[1:] for c in BAD_STYLIZE], ids=[c[0] for c in BAD_STYLIZE])
def test_bad_stylize_input_is_a_clear_4xx(client, fields, status, code):
    r = post(client, **fields)
    assert (r.status_code, r.json["error"]["code"]) == (status, code), r.json
    assert r.json["error"]["message"] and client.sent == []


BAD_PORTRAIT = [
    ("json not object", dict(json=[1, 2]), 400, "bad_json"),
    ("broken json", dict(data=b"{", content_type="application/json"), 400, "bad_json"),
    ("text body", dict(data=b"seed=1", content_type="text/plain"), 415, "unsupported_media_type"),
    ("neither", dict(json={"seed": 1}), 422, "style_or_preset"),
    ("bad seed", dict(json={"seed": "x", "preset": 1}), 422, "invalid_parameter"),
    ("bad engine", dict(json={"preset": 1, "engine": "dcgan"}), 422, "invalid_parameter"),
    ("tiny size", dict(json={"preset": 1, "size": 8}), 422, "invalid_parameter"),
    ("unknown", dict(json={"preset": 1, "face": 2}), 422, "unknown_field"),
    ("gatys preset", dict(json={"preset": 1, "engine": "gatys"}), 422, "preset_needs_fast"),
]


@pytest.mark.parametrize("kw,status,code", [c[1:] for c in BAD_PORTRAIT], ids=[c[0] for c in BAD_PORTRAIT])
def test_bad_portrait_input_is_a_clear_4xx(client, kw, status, code):
    r = client.post("/api/portrait", **kw)
    assert (r.status_code, r.json["error"]["code"]) == (status, code), r.json


def test_not_multipart_is_415(client):
    r = client.post("/api/stylize", json={"content": "x"})
    assert r.status_code == 415 and r.json["error"]["code"] == "multipart_required"


@pytest.mark.parametrize("method,path,status,code", [
    ("get", "/api/jobs/0123456789abcdef0123456789abcdef", 404, "job_not_found"),
    ("get", "/api/jobs/../../etc/passwd", 404, "not_found"),
    ("get", "/api/jobs/not-an-id/result", 404, "job_not_found"),
    ("post", "/api/jobs/0123456789abcdef0123456789abcdef/cancel", 404, "job_not_found"),
    ("delete", "/api/stylize", 405, "method_not_allowed"),
    ("get", "/api/stylize", 405, "method_not_allowed"),
    ("get", "/api/nothing-here", 404, "not_found"),
    ("get", "/api/styles/99.jpg", 503, "models_missing"),
])
def test_routing_errors_are_json(client, method, path, status, code):
    r = getattr(client, method)(path)
    assert (r.status_code, r.json["error"]["code"]) == (status, code)


def test_result_format_and_preview_before_ready(client):
    job = submit_ok(client)
    assert client.get(job["urls"]["preview"]).json["error"]["code"] == "no_preview"
    tasks.run_job(job["id"])
    r = client.get(job["urls"]["result"] + "?format=gif")
    assert r.status_code == 422 and r.json["error"]["field"] == "format"


def test_the_stored_photo_comes_back_for_a_reload(client):
    job = submit_ok(client, content=image_bytes("PNG", size=(90, 60), color=(10, 200, 30)))
    r = client.get(job["urls"]["content"])
    assert r.status_code == 200 and r.mimetype == "image/png"
    img = Image.open(io.BytesIO(r.data))
    assert img.size == (90, 60) and img.convert("RGB").getpixel((45, 30)) == (10, 200, 30)
    face = client.post("/api/portrait", json={"seed": 3, "preset": 1}).json
    assert "content" not in face["urls"]  # a generated portrait has no photo
    assert client.get(f"/api/jobs/{face['id']}/content").json["error"]["code"] == "content_expired"


def test_bad_idempotency_key_is_400(client):
    r = post(client, headers={"Idempotency-Key": "has space"}, content=OK, style=OK)
    assert r.status_code == 400 and r.json["error"]["code"] == "bad_idempotency_key"


def test_upload_size_limit_is_json_413(make):
    client = make(MAX_UPLOAD_MB=1)
    big = image_bytes("BMP", size=(800, 800))  # ~1.9 MB
    r = post(client, content=big, style=OK)
    assert r.status_code == 413 and r.json["error"]["code"] == "too_large" and "1 MB" in r.json["error"]["message"]


def test_form_parts_limit_is_json_413(make):
    client = make(MAX_FORM_PARTS=4)
    r = post(client, content=OK, style=[OK, OK, OK, OK])
    assert r.status_code == 413 and r.json["error"]["code"] == "too_large"


def test_decoded_pixel_limit(make):
    client = make(MAX_PIXELS=1000)
    r = post(client, content=image_bytes(size=(40, 30)), style=OK)  # 1200 px
    assert r.status_code == 413 and r.json["error"]["code"] == "too_many_pixels"


def test_queue_cap_is_429_with_retry_after(make):
    client = make(QUEUE_CAP=2, RETRY_AFTER=17)
    submit_ok(client)
    submit_ok(client)
    r = post(client, content=OK, style=OK)
    assert r.status_code == 429 and r.json["error"]["code"] == "queue_full" and r.headers["Retry-After"] == "17"
    assert len(client.sent) == 2


def test_rate_limit_per_client(make):
    client = make(RATE_LIMIT_SUBMIT="2/minute")
    assert [post(client, content=OK, style=OK).status_code for _ in range(3)] == [202, 202, 429]
    r = post(client, content=OK, style=OK)
    assert r.json["error"]["code"] == "rate_limited" and int(r.headers["Retry-After"]) > 0
    assert client.get("/api/health").status_code == 200  # reads are not the submit limit


def test_broker_down_on_enqueue_is_503(make):
    def down(*a):
        raise ConnectionError("refused")
    client = make(ENQUEUE=down)
    r = post(client, content=OK, style=OK)
    assert r.status_code == 503 and r.json["error"]["code"] == "broker_unavailable"


# --- auth, CORS, styles, health, docs, web --------------------------------------------------------------------

def test_api_keys(make):
    client = make(API_KEYS="k1, k2")
    assert post(client, content=OK, style=OK).status_code == 401
    r = post(client, headers={"Authorization": "Bearer nope"}, content=OK, style=OK)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"
    assert post(client, headers={"Authorization": "Bearer k2"}, content=OK, style=OK).status_code == 202
    assert client.get("/api/jobs/0123456789abcdef0123456789abcdef").status_code == 401
    assert client.get("/api/health").status_code == 200 and client.get("/api/openapi.json").status_code == 200


def test_cors_allow_list(make):
    client = make(CORS_ORIGINS="https://app.example")
    ok = client.get("/api/health", headers={"Origin": "https://app.example"})
    assert ok.headers["Access-Control-Allow-Origin"] == "https://app.example"
    pre = client.options("/api/stylize", headers={"Origin": "https://app.example",
                                                  "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 200 and "Idempotency-Key" in pre.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Origin" not in client.get("/api/health", headers={"Origin": "https://evil"}).headers


def test_styles_from_thumbnail_index(client, var):
    thumbs = var / "models" / "thumbnails"
    thumbs.mkdir(parents=True)
    (thumbs / "index.json").write_text(json.dumps([{"id": i, "name": f"Style {i}", "file": f"{i}.jpg"}
                                                   for i in range(26)]))
    for i in range(26):
        (thumbs / f"{i}.jpg").write_bytes(image_bytes())
    r = client.get("/api/styles")
    # names and default strengths come from worker/presets.py, the thumbnails from the rendered index
    assert r.json["count"] == 26 and r.json["styles"][3] == {"id": 3, "name": presets.PRESETS[3].name,
                                                             "strength": presets.PRESETS[3].strength,
                                                             "thumbnail": "/api/styles/3.jpg"}
    t = client.get("/api/styles/3.jpg")
    assert t.status_code == 200 and t.mimetype == "image/jpeg"
    assert client.get("/api/styles/30.jpg").json["error"]["code"] == "style_not_found"


def test_health_ok_and_503_when_the_store_is_down(client, make):
    r = client.get("/api/health")
    assert r.status_code == 200 and r.json["broker"] == {"ok": True, "kind": "filesystem"}
    assert r.json["queue_depth"] == {"fast": 0, "slow": 0} and r.json["workers"]["count"] == 0
    get_store().heartbeat("w1", {"queues": ["fast"]})
    assert client.get("/api/health").json["workers"] == {"count": 1, "queues": ["fast"]}
    down = make(REDIS_URL="redis://127.0.0.1:1/0")
    r = down.get("/api/health")
    assert r.status_code == 503 and r.json["broker"]["ok"] is False


def test_openapi_documents_every_api_route(client):
    spec = client.get("/api/openapi.json").json
    assert spec["openapi"].startswith("3.")
    routes = {str(r.rule).replace("<job_id>", "{job_id}").replace("<int:style_id>", "{style_id}")
              for r in client.app.url_map.iter_rules() if str(r.rule).startswith("/api/")}
    assert routes - {"/api/openapi.json", "/api/docs"} == set(spec["paths"])
    page = client.get("/api/docs")
    assert page.status_code == 200 and b"openapi.json" in page.data


def test_web_build_served_at_root_when_present(make, var):
    client = make(WEB_DIR=str(var / "dist"))
    assert client.get("/").status_code == 404 and client.get("/").json["error"]["code"] == "not_found"
    (var / "dist").mkdir()
    (var / "dist" / "index.html").write_text("<html>app</html>")
    (var / "dist" / "app.js").write_text("console.log(1)")
    assert client.get("/").data == b"<html>app</html>"
    assert client.get("/app.js").data == b"console.log(1)"
    assert client.get("/some/client/route").data == b"<html>app</html>"
    assert client.get("/api/unknown").status_code == 404 and client.get("/api/unknown").is_json


def test_cleanup_removes_expired_jobs_and_files(client, monkeypatch):
    old, new = submit_ok(client), submit_ok(client)
    tasks.run_job(old["id"])
    store, media = get_store(), client.app.extensions["media"]
    store._mutate(old["id"], lambda r: {**r, "created_at": time.time() - 7200})
    rec = store.get(old["id"])
    import os
    for key in [rec["inputs"]["content"], rec["result"]]:
        p = media.root / key
        os.utime(p, (time.time() - 7200,) * 2)
    monkeypatch.setenv("RESULT_TTL", "3600")
    assert tasks.cleanup() == 1
    assert store.get(old["id"]) is None and not media.exists(rec["result"])
    assert not list((media.root / "uploads" / old["id"]).glob("*"))
    assert store.get(new["id"]) and media.exists(f"uploads/{new['id']}/content.png")
    assert client.get(old["urls"]["get"]).status_code == 404


def test_hard_time_limit_from_the_parent_fails_the_job(client):
    from celery.exceptions import TimeLimitExceeded
    from celery import signals
    job = submit_ok(client)
    get_store().start(job["id"], 1)
    signals.task_failure.send(sender=tasks.stylize, task_id=job["id"], exception=TimeLimitExceeded(1800),
                              args=[job["id"]], kwargs={}, traceback=None, einfo=None)
    assert client.get(job["urls"]["get"]).json["error"]["code"] == "time_limit"


# --- hostile requests (issue 12): each a clear 4xx, never a 5xx --------------------------------------------------

HOSTILE_PORTRAIT = [
    ("800 KB blend", dict(json={"preset": ",".join(["0:1"] * 200_000)}), 413, "too_large"),
    ("json over 64 KB", dict(json={"preset": 1, "pad": "x" * 70_000}), 413, "too_large"),
    ("blend of 27", dict(json={"preset": ",".join(f"{i % 26}:1" for i in range(27))}), 422, "invalid_parameter"),
    ("unicode digit preset", dict(json={"preset": "²"}), 422, "invalid_parameter"),
    ("unicode digit seed", dict(data={"preset": "1", "seed": "٣"}), 422, "invalid_parameter"),
    ("json nested 30000 deep", dict(data=b"[" * 30_000 + b"]" * 30_000, content_type="application/json"), 400,
     "bad_json"),
    ("json nested 100000 deep", dict(data=b"[" * 100_000 + b"]" * 100_000, content_type="application/json"), 413,
     "too_large"),
    ("true is not a seed", dict(json={"preset": 1, "seed": True}), 422, "invalid_parameter"),
    ("photo and seed", dict(data={"photo": (io.BytesIO(OK), "p.png"), "seed": "3", "preset": "1"}), 422,
     "photo_or_seed"),
    ("photo as text", dict(data={"photo": "x", "preset": "1"}), 422, "file_required"),
]


@pytest.mark.parametrize("kw,status,code", [c[1:] for c in HOSTILE_PORTRAIT], ids=[c[0] for c in HOSTILE_PORTRAIT])
def test_hostile_portrait_requests_are_a_clear_4xx(client, kw, status, code):
    r = client.post("/api/portrait", **kw)
    assert (r.status_code, r.json["error"]["code"]) == (status, code), r.json
    assert client.sent == []


def test_limits_the_api_admits_are_limits_the_engine_runs(client):
    # fast needs >= 32 px: size=20 used to pass the API and fail in the engine
    r = post(client, content=OK, engine="fast", preset="1", size="20")
    assert r.status_code == 422 and r.json["error"]["field"] == "size" and "32 to 1024" in r.json["error"]["message"]
    # the style image's side (size x style_scale) stays within the output cap
    r = post(client, content=OK, style=OK, size="1024", style_scale="4")
    assert r.status_code == 422 and r.json["error"]["field"] == "style_scale"
    assert post(client, content=OK, style=OK, size="256", style_scale="4").status_code == 202


def test_non_ascii_idempotency_key_is_400(client):
    r = post(client, headers={"Idempotency-Key": "café"}, content=OK, style=OK)
    assert r.status_code == 400 and r.json["error"]["code"] == "bad_idempotency_key"


def test_deployment_may_lower_the_size_cap(make):
    client = make(MAX_SIZE=256)
    r = post(client, content=OK, style=OK, size="512")
    assert r.status_code == 422 and "at most 256" in r.json["error"]["message"]


def test_preset_by_name_and_its_default_strength(client):
    job = submit_ok(client, engine="fast", preset=presets.PRESETS[5].name)
    assert job["params"]["preset"] == 5 and job["params"]["strength"] == presets.PRESETS[5].strength
    tasks.run_job(job["id"])
    assert fake_engine.CALLS[0]["preset"] == 5 and fake_engine.CALLS[0]["strength"] == presets.PRESETS[5].strength


def test_portrait_from_the_users_photo(client, var):
    r = post(client, "/api/portrait", photo=image_bytes(size=(90, 120)), preset="2")
    assert r.status_code == 202, r.json
    assert "seed" not in r.json["params"] and r.json["params"]["preset"] == 2
    assert tasks.run_job(r.json["id"]) == "succeeded"
    call = fake_engine.CALLS[-1]
    assert call["args"] == (None, None) and call["photo"].size == (90, 120) and call["engine"] == "fast"
    # without a photo no photo reaches the engine
    job = client.post("/api/portrait", json={"seed": 3, "preset": 2}).json
    tasks.run_job(job["id"])
    assert "photo" not in fake_engine.CALLS[-1]


def test_worker_fills_defaults_an_older_record_left_out(client):
    job = submit_ok(client)
    store = get_store()
    old = {"engine": "gatys", "size": 512, "steps": None, "seed": 5, "style_weights": None, "init": "content"}
    store.update(job["id"], params=old)
    assert tasks.run_job(job["id"]) == "succeeded"
    params = client.get(job["urls"]["get"]).json["params"]
    steps = contract.Gatys.model_fields["steps"].default
    assert params["steps"] == steps and params["style_weights"] == [1.0] and params["seed"] == 5
    assert fake_engine.CALLS[0]["steps"] == steps


def test_allow_names_only_the_routes_own_methods(client):
    # the web app's catch-all GET matches every path; Allow on an /api route must not advertise it
    for path in ("/api/stylize", "/api/portrait", "/api/jobs/0123456789abcdef0123456789abcdef/cancel"):
        r = client.delete(path)
        assert r.status_code == 405 and "GET" not in r.headers["Allow"] and "POST" in r.headers["Allow"], path
        assert "GET" not in client.options(path).headers["Allow"]
    assert "GET" in client.options("/api/jobs/0123456789abcdef0123456789abcdef").headers["Allow"]
