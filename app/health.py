"""GET /api/health: broker and job store accept writes, free disk, live workers, queue depth, whether every worker
has its models loaded; 503 when any of the first three fails.

Cheap by design: the probes use the job store's own connection (no new Redis connection per call) and their
outcome is reused for PROBE_TTL seconds; workers and queue depth are read live.
"""
from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

from flask import Blueprint, current_app, jsonify

from worker import queue

bp = Blueprint("health", __name__, url_prefix="/api")
PROBE_TTL = 2.0
_lock = threading.Lock()


def disk(paths: list[Path], min_free_mb: int) -> dict:
    """Free space where uploads, results and (embedded setup) the queue and job records go."""
    free = min(shutil.disk_usage(p).free for p in paths if p.exists()) // 2**20
    return {"ok": free >= min_free_mb, "free_mb": int(free), "min_free_mb": min_free_mb}


def probe(app) -> dict:
    """The write probes: a real write to the job store (Redis SET with a TTL, or an SQLite row), the queue
    folder writable (embedded), the free disk space. Cached per app for PROBE_TTL seconds."""
    cached = app.extensions.get("health_probe")
    if cached and time.monotonic() - cached[0] < PROBE_TTL:
        return cached[1]
    with _lock:
        cfg, jobs = app.config, app.extensions["jobs"]
        try:
            jobs.write_check()
            store = {"ok": True}
        except Exception as e:  # what a refused write looks like differs by backend; the name tells which
            store = {"ok": False, "error": type(e).__name__}
        paths = [Path(cfg["VAR_DIR"])]
        media_root = getattr(app.extensions["media"], "root", None)
        if media_root is not None:
            paths.append(Path(media_root))
        space = disk(paths, int(cfg["MIN_FREE_MB"]))
        if cfg["REDIS_URL"]:
            broker = {"ok": store["ok"], "kind": "redis"}  # the same Redis, just written to
        else:
            ok, kind = queue.broker_ok("", cfg["VAR_DIR"])
            broker = {"ok": ok and space["ok"], "kind": kind}
        out = {"broker": broker, "job_store": store, "disk": space}
        app.extensions["health_probe"] = (time.monotonic(), out)
        return out


@bp.get("/health")
def health():
    jobs = current_app.extensions["jobs"]
    probes = probe(current_app._get_current_object())
    store_ok = probes["job_store"]["ok"]
    workers, depth = [], {}
    try:
        workers = jobs.workers()
        depth = {q: jobs.queue_depth(q) for q in queue.QUEUES}
    except Exception:
        store_ok = False
    ok = probes["broker"]["ok"] and store_ok and probes["disk"]["ok"]
    # ready: every live worker has its models loaded and every queue has one of them (the first job of either kind
    # will not wait for a warm-up, nor for a worker that has not reported yet)
    served = {q for w in workers if w.get("ready") for q in w.get("queues", [])}
    ready = all(w.get("ready") for w in workers) and set(queue.QUEUES) <= served
    body = {"status": "ok" if ok else "unavailable", "ready": ready,
            "broker": probes["broker"], "job_store": {**probes["job_store"], "ok": store_ok},
            "disk": probes["disk"],
            "workers": {"count": len(workers), "queues": sorted({q for w in workers for q in w.get("queues", [])})},
            "queue_depth": depth}
    return jsonify(body), 200 if ok else 503
