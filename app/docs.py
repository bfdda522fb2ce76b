"""GET /api/openapi.json (OpenAPI 3.1) and /api/docs (a self-contained page that renders it; no CDN)."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify

bp = Blueprint("docs", __name__, url_prefix="/api")


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def err(desc: str) -> dict:
    return {"description": desc, "content": {"application/json": {"schema": ref("Error")}}}


JOB_202 = {"description": "accepted; Location is the job URL",
           "headers": {"Location": {"schema": {"type": "string"}}},
           "content": {"application/json": {"schema": ref("Job")}}}
COMMON_ERRORS = {"400": err("malformed request"), "401": err("API key required"),
                 "413": err("upload, form parts or decoded pixels over the limit"),
                 "415": err("not multipart / not an allowed image format"),
                 "422": err("invalid parameter"), "429": err("rate limited or queue full (Retry-After)"),
                 "503": err("queue unreachable")}
NUM = {"type": "number"}
INT = {"type": "integer"}
JOB_ID = [{"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}]
GENERATOR = {"type": "string", "description": "a trained DCGAN generator from GET /api/generators; "
             "absent: the bundled face generator"}
IDEM = {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string", "maxLength": 200},
        "description": "a retried submit with the same key returns the same job"}

SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "Neural art API", "version": "1.0.0",
             "description": "Style transfer (Gatys, fast networks, 26 presets, your own CycleGAN/pix2pix models) "
                            "and GAN portraits (the bundled face generator or your own trained DCGAN) as jobs."},
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                       "description": "only when the server sets API_KEYS"}},
        "schemas": {
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}},
            "UserModel": {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string"}, "family": {"type": ["string", "null"],
                                                       "description": "dcgan, resnet (CycleGAN) or unet (pix2pix)"},
                "direction": {"type": ["string", "null"]}, "size": {"type": ["integer", "null"]},
                "created": {"type": ["string", "null"]}, "step": {"type": ["integer", "null"]},
                "epochs": {"type": ["integer", "null"]}, "images": {"type": ["integer", "null"]},
                "bytes": {"type": ["integer", "null"]}}},
            "Job": {"type": "object", "properties": {
                "id": {"type": "string"}, "kind": {"enum": ["stylize", "portrait"]},
                "status": {"enum": ["queued", "running", "succeeded", "failed", "canceled"]},
                "progress": {"type": "object", "properties": {"step": INT, "total": INT, "fraction": NUM}},
                "eta_seconds": {"type": ["number", "null"]}, "queue_position": {"type": ["integer", "null"]},
                "created_at": {"type": "string", "format": "date-time"},
                "started_at": {"type": ["string", "null"]}, "finished_at": {"type": ["string", "null"]},
                "params": {"type": "object"},
                "error": {"oneOf": [{"type": "null"}, {"type": "object", "properties": {
                    "code": {"type": "string"}, "message": {"type": "string"}}}]},
                "urls": {"type": "object", "properties": {k: {"type": "string"} for k in
                                                          ("get", "result", "preview", "cancel")}}}},
        },
    },
    "security": [{}, {"bearer": []}],
    "paths": {
        "/api/stylize": {"post": {
            "summary": "Stylise a photo", "parameters": [IDEM],
            "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": ["content"], "properties": {
                    "content": {"type": "string", "format": "binary"},
                    "style": {"type": "array", "items": {"type": "string", "format": "binary"},
                              "description": "repeat for a blend"},
                    "style_weights": {"type": "string", "example": "0.7,0.3"},
                    "preset": {"type": "string", "description": "0-25, or a blend like 3:0.5,12:0.5 (fast)"},
                    "engine": {"enum": ["gatys", "fast", "translate"], "default": "gatys",
                               "description": "translate: the content through `model` (no style or preset)"},
                    "model": {"type": "string", "description": "engine=translate only: a translate model name "
                              "from GET /api/generators (MODELS_DIR/translate)"},
                    "size": {"type": "integer", "default": 512, "description": "long side, px"},
                    "steps": INT, "content_weight": NUM, "style_weight": NUM, "tv_weight": NUM,
                    "preserve_color": {"type": "boolean"}, "init": {"enum": ["content", "style", "noise"]},
                    "style_scale": NUM, "strength": {"type": "number", "description": "fast only, 0-1"},
                    "seed": INT}}}}},
            "responses": {"202": JOB_202, **COMMON_ERRORS}}},
        "/api/portrait": {"post": {
            "summary": "A GAN face, stylised", "parameters": [IDEM],
            "requestBody": {"content": {
                "multipart/form-data": {"schema": {"type": "object", "properties": {
                    "seed": INT, "style": {"type": "string", "format": "binary"}, "preset": {"type": "string"},
                    "engine": {"enum": ["fast", "gatys"]}, "size": INT, "generator": GENERATOR}}},
                "application/json": {"schema": {"type": "object", "properties": {
                    "seed": INT, "preset": {"type": "string"}, "engine": {"enum": ["fast", "gatys"]},
                    "size": INT, "generator": GENERATOR}}}}},
            "responses": {"202": JOB_202, **COMMON_ERRORS}}},
        "/api/jobs/{job_id}": {"get": {"summary": "Job status", "parameters": JOB_ID, "responses": {
            "200": {"description": "the job", "content": {"application/json": {"schema": ref("Job")}}},
            "404": err("no such job")}}},
        "/api/jobs/{job_id}/result": {"get": {
            "summary": "The result image", "parameters": JOB_ID + [
                {"name": "format", "in": "query", "schema": {"enum": ["png", "jpeg"], "default": "png"}}],
            "responses": {"200": {"description": "image", "content": {"image/png": {}, "image/jpeg": {}}},
                          "404": err("no such job"), "409": err("not succeeded (yet)")}}},
        "/api/jobs/{job_id}/preview": {"get": {
            "summary": "The latest snapshot (a portrait's raw face first)", "parameters": JOB_ID,
            "responses": {"200": {"description": "JPEG", "content": {"image/jpeg": {}}},
                          "404": err("no such job"), "409": err("no snapshot yet")}}},
        "/api/jobs/{job_id}/cancel": {"post": {
            "summary": "Cancel (a queued job never starts; a running one stops within a step)",
            "parameters": JOB_ID, "responses": {
                "202": {"description": "the job", "content": {"application/json": {"schema": ref("Job")}}},
                "404": err("no such job"), "409": err("already finished")}}},
        "/api/generators": {"get": {"summary": "Your trained DCGAN generators (portrait `generator`) and translate "
                                   "models (stylize engine=translate, `model`)", "responses": {"200": {
            "description": "{generators: [{name, family, size, created, step, epochs, images, nz, ngf}], "
                           "translate: [{name, family, direction, size, created, step, bytes}]}",
            "content": {"application/json": {"schema": {"type": "object", "properties": {
                "generators": {"type": "array", "items": ref("UserModel")},
                "translate": {"type": "array", "items": ref("UserModel")}}}}}}}}},
        "/api/styles": {"get": {"summary": "The 26 presets", "responses": {"200": {"description": "presets"}}}},
        "/api/styles/{style_id}.jpg": {"get": {"summary": "A preset thumbnail", "parameters": [
            {"name": "style_id", "in": "path", "required": True, "schema": INT}],
            "responses": {"200": {"description": "JPEG"}, "404": err("no such preset")}}},
        "/api/health": {"get": {"summary": "Broker, workers, queue depth", "security": [{}], "responses": {
            "200": {"description": "ok"}, "503": {"description": "broker or job store down"}}}},
    },
}

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Neural art API</title>
<style>body{font:15px system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
code,pre{background:#f4f4f4;padding:.1rem .3rem}h2{margin-top:2rem}.m{font-weight:bold;text-transform:uppercase}
</style></head><body><h1>Neural art API</h1>
<pre>curl -F content=@photo.jpg -F style=@painting.jpg http://HOST/api/stylize
curl -F content=@photo.jpg -F engine=fast -F preset=3 http://HOST/api/stylize
curl -F content=@photo.jpg -F engine=translate -F model=monet http://HOST/api/stylize
curl http://HOST/api/jobs/ID ; curl -o out.png http://HOST/api/jobs/ID/result</pre>
<p>Machine-readable: <a href="openapi.json">openapi.json</a></p><div id="paths"></div>
<script>
fetch("openapi.json").then(r => r.json()).then(spec => {
  const out = document.getElementById("paths");
  for (const [path, ops] of Object.entries(spec.paths)) for (const [m, op] of Object.entries(ops)) {
    const h = document.createElement("h2");
    h.innerHTML = `<span class="m"></span> <code></code>`;
    h.querySelector(".m").textContent = m; h.querySelector("code").textContent = path;
    const p = document.createElement("p"); p.textContent = op.summary;
    const codes = document.createElement("p");
    codes.textContent = "Responses: " + Object.entries(op.responses).map(([c, r]) => c + " " + r.description).join("; ");
    out.append(h, p, codes);
  }
});
</script></body></html>"""


@bp.get("/openapi.json")
def openapi():
    return jsonify(SPEC)


@bp.get("/docs")
def docs():
    return Response(PAGE, mimetype="text/html")
