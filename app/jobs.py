"""Jobs: the submit path shared by /api/stylize and /api/portrait, and GET/cancel/result/preview by id."""
from __future__ import annotations

import hashlib
import logging
import re
import time
import uuid
from datetime import datetime, timezone

from flask import Blueprint, Response, current_app, g, jsonify, request, url_for
from PIL import Image

from app import images
from app.errors import APIError
from worker import params as params_contract, queue
from worker.job_store import QUEUED, RUNNING, SUCCEEDED, TERMINAL, new_record

bp = Blueprint("jobs", __name__, url_prefix="/api/jobs")
log = logging.getLogger(__name__)
JOB_ID = re.compile(r"^[0-9a-f]{32}$")
IDEM_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII, no spaces


def store():
    return current_app.extensions["jobs"]


def media():
    return current_app.extensions["media"]


def iso(ts):
    return datetime.fromtimestamp(ts, timezone.utc).isoformat().replace("+00:00", "Z") if ts else None


def job_json(rec: dict) -> dict:
    step, total = rec["progress"]["step"], rec["progress"]["total"]
    eta = position = None
    t0, s0 = rec["progress"].get("since") or (rec["started_at"], 0)
    if rec["status"] == RUNNING and step > s0 and total > step and t0:
        # the rate since the first report, so model loading does not inflate the estimate
        eta = round((time.time() - t0) / (step - s0) * (total - step), 1)
    if rec["status"] == QUEUED:
        position = store().queued_ahead(rec) + 1
    jid = rec["id"]
    return {
        "id": jid, "kind": rec["kind"], "status": rec["status"],
        "progress": {"step": step, "total": total,
                     "fraction": 1.0 if rec["status"] == SUCCEEDED else round(step / total, 4) if total else 0.0},
        "eta_seconds": eta, "queue_position": position,
        "created_at": iso(rec["created_at"]), "started_at": iso(rec["started_at"]),
        "finished_at": iso(rec["finished_at"]),
        "params": rec["params"], "error": rec["error"],
        "urls": {"get": url_for("jobs.get", job_id=jid), "result": url_for("jobs.result", job_id=jid),
                 "preview": url_for("jobs.preview", job_id=jid), "cancel": url_for("jobs.cancel", job_id=jid),
                 **({"face": url_for("jobs.face", job_id=jid)} if rec["kind"] == "portrait" else {}),
                 **({"content": url_for("jobs.content", job_id=jid)} if rec["inputs"].get("content") else {})},
    }


def idem_key() -> str | None:
    """The client's Idempotency-Key, scoped to the client (API key or IP): two clients never share a key."""
    raw = request.headers.get("Idempotency-Key")
    if raw is None:
        return None
    if not IDEM_KEY.match(raw):
        raise APIError(400, "bad_idempotency_key", "Idempotency-Key: 1 to 200 printable ASCII characters")
    from app import client_id
    return f"{client_id()}:{raw}"


def fingerprint() -> str:
    """What the request asks for, independent of how it was framed (a retried multipart body has a new
    boundary): the form fields and each file's sha256, or the raw body for JSON."""
    h = hashlib.sha256()
    if request.mimetype == "multipart/form-data":
        for name, value in sorted(request.form.items(multi=True)):
            h.update(f"f:{name}={value}\n".encode())
        for name, f in sorted(request.files.items(multi=True), key=lambda kv: kv[0]):
            h.update(f"u:{name}=".encode() + hashlib.sha256(f.read()).digest())
            f.seek(0)
    else:
        h.update(request.get_data(cache=True))
    return h.hexdigest()[:32]


def idem_answer(value: str):
    """A retry of a submit another request already made (or is making) with the same key: that job (202), a 422
    if the body differs, or 409 while the first one is still being written (never a job of its own)."""
    job_id, _, fp = value.partition(" ")
    if fp and fp != g.idem_fp:
        raise APIError(422, "idempotency_key_reused", "this Idempotency-Key was used for a different request; "
                       "use a new key for a new request")
    for _ in range(25):  # the first request wrote the key, its record follows within moments
        if (resp := replay(job_id)) is not None:
            return resp
        time.sleep(0.2)
    raise APIError(409, "idempotent_request_in_progress", "a request with this Idempotency-Key is still being "
                   "processed; retry shortly", headers={"Retry-After": "2"})


def replay(job_id: str):
    rec = store().get(job_id)
    if rec is None:
        return None
    resp = jsonify(job_json(rec))
    resp.status_code = 202
    resp.headers["Location"] = url_for("jobs.get", job_id=job_id)
    resp.headers["Idempotent-Replayed"] = "true"
    return resp


def admit():
    """The start of every submit: (idempotency key, the replay of the job that key already made, or None);
    raises 429 when this client already has CLIENT_CAP jobs queued or running."""
    key = idem_key()
    if key:
        g.idem_fp = fingerprint()
        if done := store().get_idem(key):
            return key, idem_answer(done)
    cap, after = int(current_app.config["CLIENT_CAP"]), str(current_app.config["RETRY_AFTER"])
    if store().active(client()) >= cap:
        raise APIError(429, "too_many_jobs", f"you already have {cap} jobs queued or running; wait for one to "
                       f"finish (or cancel one), then retry", headers={"Retry-After": after})
    return key, None


def check_capacity(queue_name: str, params: dict, content: Image.Image | None) -> None:
    """429 when this job's queue is full (each queue has its own QUEUE_CAP, so a full slow queue never blocks
    fast jobs); 422 for a Gatys job that cannot finish inside the job time limit on these workers."""
    cap = int(current_app.config["QUEUE_CAP"])
    if store().queue_depth(queue_name) >= cap:
        after = str(current_app.config["RETRY_AFTER"])
        raise APIError(429, "queue_full", f"the {queue_name} queue is full ({cap} jobs waiting); retry in {after} s",
                       headers={"Retry-After": after})
    if params.get("engine") == "gatys" and params.get("steps") and content is not None:
        check_gatys_time(int(params["steps"]), int(params.get("size") or 512), content.size)


def step_cost() -> float | None:
    """Seconds per Gatys step per output megapixel: GATYS_STEP_COST, else the slowest live slow-queue worker's
    warm-up measurement (a job may land on any of them); None when unknown (then nothing is refused)."""
    if current_app.config.get("GATYS_STEP_COST"):
        return float(current_app.config["GATYS_STEP_COST"])
    costs = [w["gatys_step_cost"] for w in store().workers() if w.get("gatys_step_cost")
             and queue.SLOW_QUEUE in w.get("queues", [])]
    return max(costs) if costs else None


def check_gatys_time(steps: int, size: int, content_size: tuple[int, int]) -> None:
    cost = step_cost()
    if not cost:
        return
    w, h = content_size
    mpx = size * size * min(w, h) / max(w, h) / 1e6  # the output: long side `size`, the photo's aspect
    limit = queue.time_limits()[0]
    estimate = steps * mpx * cost
    if estimate > limit:
        fit = max(1, int(limit / (mpx * cost)))
        raise APIError(422, "too_slow", f"{steps} steps at {size} px would take about {estimate / 60:.0f} min on "
                       f"this server, past its {limit // 60} min job limit; use at most {fit} steps at this size, "
                       "or a smaller size", field="steps", estimate_seconds=round(estimate), max_steps=fit)


def submit(kind: str, engine: str, params: dict, content: Image.Image | None, styles: list[Image.Image],
           key: str | None):
    """Store the (clean) inputs, write the record, enqueue by task name: 202 + Location + the job."""
    check_capacity(params_contract.queue_for(kind, engine), params, content)
    jid = uuid.uuid4().hex
    claim = f"{jid} {g.idem_fp}" if key else None
    # The key is claimed before anything is written: a concurrent duplicate gets the first one's job (or waits
    # for it); it never makes a second job whose inputs are gone. A submit that fails gives its key back.
    if key and (winner := store().claim_idem(key, claim, int(current_app.config["RESULT_TTL"]))):
        return idem_answer(winner)
    try:
        return write_and_enqueue(jid, kind, engine, params, content, styles)
    except BaseException:
        if key:
            store().release_idem(key, claim)
        raise


def write_and_enqueue(jid: str, kind: str, engine: str, params: dict, content: Image.Image | None,
                      styles: list[Image.Image]):
    inputs: dict = {"styles": []}
    if content is not None:
        inputs["content"] = f"uploads/{jid}/content.png"
        media().put(inputs["content"], images.png(content))
    for i, img in enumerate(styles):
        inputs["styles"].append(f"uploads/{jid}/style{i}.png")
        media().put(inputs["styles"][-1], images.png(img))
    name = queue.PORTRAIT if kind == "portrait" else queue.STYLIZE
    rec = new_record(jid, kind, params_contract.queue_for(kind, engine), params, inputs, client=client())
    store().create(rec)
    try:
        current_app.config["ENQUEUE"](name, jid, rec["queue"])
    except Exception:
        log.exception("enqueue failed")
        store().finish(jid, "failed", error={"code": "broker_unavailable", "message": "the queue is unreachable"})
        raise APIError(503, "broker_unavailable", "the job queue is unreachable; try again shortly",
                       headers={"Retry-After": "10"})
    resp = jsonify(job_json(rec))
    resp.status_code = 202
    resp.headers["Location"] = url_for("jobs.get", job_id=jid)
    return resp


def client() -> str:
    from app import client_id
    return client_id()


def load(job_id: str) -> dict:
    rec = store().get(job_id) if JOB_ID.match(job_id) else None
    if rec is None:
        raise APIError(404, "job_not_found", f"no job {job_id[:40]!r} (jobs expire after "
                       f"{int(current_app.config['RESULT_TTL']) // 3600} h)")
    return rec


@bp.get("/<job_id>")
def get(job_id):
    return jsonify(job_json(load(job_id)))


@bp.post("/<job_id>/cancel")
def cancel(job_id):
    rec = load(job_id)
    if rec["status"] in TERMINAL:
        raise APIError(409, "job_finished", f"the job already ended: {rec['status']}", status=rec["status"])
    rec = store().cancel(job_id)
    return jsonify(job_json(rec)), 202


@bp.get("/<job_id>/result")
def result(job_id):
    rec = load(job_id)
    fmt = request.args.get("format", "png").lower()
    if fmt not in ("png", "jpeg", "jpg"):
        raise APIError(422, "invalid_parameter", f"format must be png or jpeg, not {fmt[:20]!r}", field="format")
    if rec["status"] != SUCCEEDED:
        raise APIError(409, "not_ready", f"the job is {rec['status']}; the result exists once it has succeeded",
                       status=rec["status"])
    try:
        data = media().get(rec["result"])
    except FileNotFoundError:
        raise APIError(404, "result_expired", "the result file is gone (expired)")
    if fmt != "png":
        return Response(images.png_to_jpeg(data), mimetype="image/jpeg", headers=download(job_id, "jpg"))
    return Response(data, mimetype="image/png", headers=download(job_id, "png"))


def download(job_id: str, ext: str) -> dict:
    return {"Content-Disposition": f'inline; filename="{job_id}.{ext}"', "Cache-Control": "private, max-age=3600"}


@bp.get("/<job_id>/face")
def face(job_id):
    """A portrait's face as it went into the painting: the aligned crop of the photo, or the upscaled GAN face."""
    rec = load(job_id)
    key = rec.get("face")
    if not key:
        raise APIError(409, "face_not_ready", f"no face for this job (a {rec['kind']} job that is {rec['status']}); a "
                       "portrait has one once it has succeeded", status=rec["status"])
    try:
        data = media().get(key)
    except FileNotFoundError:
        raise APIError(404, "face_expired", "the face file is gone (expired)")
    return Response(data, mimetype="image/png", headers=download(job_id + "-face", "png"))


@bp.get("/<job_id>/content")
def content(job_id):
    """The photo the job was made from, as stored (downscaled at the door): a client's "before" after a reload."""
    rec = load(job_id)
    try:
        data = media().get(rec["inputs"]["content"])
    except (KeyError, FileNotFoundError):
        raise APIError(404, "content_expired", "this job has no stored photo (a generated portrait) or it expired")
    return Response(data, mimetype="image/png", headers=download(job_id + "-photo", "png"))


@bp.get("/<job_id>/preview")
def preview(job_id):
    rec = load(job_id)
    key = rec.get("preview")
    if not key:
        raise APIError(409, "no_preview", f"no preview yet (the job is {rec['status']})", status=rec["status"])
    try:
        data = media().get(key)
    except FileNotFoundError:
        raise APIError(404, "preview_expired", "the preview file is gone (expired)")
    return Response(data, mimetype="image/jpeg", headers={"Cache-Control": "no-store"})
