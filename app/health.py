"""GET /api/health: broker reachable, live workers, queue depth; 503 when the broker or job store is down."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from worker import queue

bp = Blueprint("health", __name__, url_prefix="/api")


@bp.get("/health")
def health():
    cfg = current_app.config
    broker, detail = queue.broker_ok(cfg["REDIS_URL"] or "", cfg["VAR_DIR"])
    jobs = current_app.extensions["jobs"]
    store_ok = jobs.ping()
    workers, depth = [], {}
    if store_ok:
        try:
            workers = jobs.workers()
            depth = {q: jobs.queue_depth(q) for q in queue.QUEUES}
        except Exception:
            store_ok = False
    ok = broker and store_ok
    # ready: every live worker has its models loaded (the first job will not wait for a warm-up)
    body = {"status": "ok" if ok else "unavailable", "ready": bool(workers) and all(w.get("ready") for w in workers),
            "broker": {"ok": broker, "kind": detail},
            "job_store": {"ok": store_ok},
            "workers": {"count": len(workers), "queues": sorted({q for w in workers for q in w.get("queues", [])})},
            "queue_depth": depth}
    return jsonify(body), 200 if ok else 503
