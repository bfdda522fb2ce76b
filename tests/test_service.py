"""The torch-free service modules: job store (SQLite and real Redis), storage, queue config, task names."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from worker import queue
from worker.job_store import RedisStore, SQLiteStore, new_record
from worker.storage import LocalStorage, cleanup

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(params=["sqlite", "redis"])
def store(request, tmp_path):
    if request.param == "sqlite":
        return SQLiteStore(str(tmp_path / "jobs.sqlite3"))
    return RedisStore(request.getfixturevalue("redis_url"), prefix=f"test-{uuid.uuid4().hex[:8]}:")


def rec(queue_name="slow", **kw):
    return {**new_record(uuid.uuid4().hex, "stylize", queue_name, {"size": 64}, {"styles": []}), **kw}


def test_store_lifecycle_and_terminal_states(store):
    a = rec()
    store.create(a)
    assert store.get(a["id"])["status"] == "queued" and store.get("nope") is None
    r = store.start(a["id"], 123)
    assert r["status"] == "running" and r["attempts"] == 1 and r["worker_pid"] == 123
    store.update(a["id"], progress={"step": 2, "total": 5})
    assert store.start(a["id"], 124)["attempts"] == 2  # a redelivery counts
    assert store.finish(a["id"], "succeeded", result="jobs/x/result.png")["status"] == "succeeded"
    for change in (lambda: store.update(a["id"], status="running"), lambda: store.cancel(a["id"]),
                   lambda: store.start(a["id"], 1), lambda: store.finish(a["id"], "failed")):
        assert change()["status"] == "succeeded"
    assert store.get(a["id"])["result"] == "jobs/x/result.png"
    with pytest.raises(ValueError, match="succeeded, failed, canceled"):
        store.finish(a["id"], "running")


def test_store_cancel_queue_positions_and_depth(store):
    a, b, c = rec(created_at=1.0), rec(created_at=2.0), rec("fast", created_at=3.0)
    for r in (a, b, c):
        store.create(r)
    assert store.queue_depth() == 3 and store.queue_depth("slow") == 2
    assert (store.queued_ahead(a), store.queued_ahead(b), store.queued_ahead(c)) == (0, 1, 0)
    assert store.cancel(a["id"])["status"] == "canceled"
    assert store.queued_ahead(store.get(b["id"])) == 0 and store.queue_depth() == 2
    store.start(b["id"], 1)
    assert store.cancel(b["id"])["status"] == "running" and store.cancel_requested(b["id"])
    assert not store.cancel_requested(c["id"]) and store.cancel_requested("gone")


def test_store_idempotency_heartbeat_and_expiry(store):
    assert store.claim_idem("k", "job1", 60) is None
    assert store.claim_idem("k", "job2", 60) == "job1" and store.get_idem("k") == "job1"
    store.heartbeat("w@h", {"queues": ["fast"]})
    assert [w["name"] for w in store.workers()] == ["w@h"] and store.workers(max_age=-1) == []
    old, new = rec(created_at=100.0), rec(created_at=10_000.0)
    store.create(old)
    store.create(new)
    assert old["id"] in store.older_than(5000) and new["id"] not in store.older_than(5000)
    store.delete(old["id"])
    assert store.get(old["id"]) is None and store.ping()


def test_local_storage_keys_and_expiry(tmp_path):
    s = LocalStorage(root=str(tmp_path))
    s.put("uploads/j1/content.png", b"abc")
    assert s.get("uploads/j1/content.png") == b"abc" and s.exists("uploads/j1/content.png")
    with s.open("uploads/j1/content.png") as f:
        assert f.read() == b"abc"
    for bad in ("../etc/passwd", "/abs", "uploads/../x", "a b", ""):
        with pytest.raises(ValueError, match="bad storage key"):
            s.put(bad, b"x")
    assert s.older_than("uploads", 0) == [] and s.older_than("uploads", 1e12) == ["uploads/j1/content.png"]
    s.delete("uploads/j1/content.png")
    s.delete("uploads/j1/content.png")  # missing is fine
    with pytest.raises(FileNotFoundError):
        s.get("uploads/j1/content.png")


def test_cleanup_also_removes_orphan_uploads(tmp_path):
    s, store = LocalStorage(root=str(tmp_path / "m")), SQLiteStore(str(tmp_path / "j.sqlite3"))
    s.put("uploads/orphan/content.png", b"x")
    os.utime(tmp_path / "m/uploads/orphan/content.png", (1, 1))
    assert cleanup(store, s, ttl=60) == 0 and not s.exists("uploads/orphan/content.png")


def test_celery_config_is_hardened(monkeypatch, tmp_path):
    monkeypatch.setenv("JOB_TIME_LIMIT", "600")
    cfg = queue.config("redis://localhost:6379/0", tmp_path)
    assert cfg["accept_content"] == ["json"] and cfg["task_serializer"] == cfg["result_serializer"] == "json"
    assert cfg["task_acks_late"] and cfg["task_reject_on_worker_lost"] and cfg["worker_prefetch_multiplier"] == 1
    assert cfg["task_time_limit"] == 600 and cfg["task_soft_time_limit"] < 600
    vis = (cfg["broker_transport_options"]["visibility_timeout"],
           cfg["result_backend_transport_options"]["visibility_timeout"], cfg["visibility_timeout"])
    assert min(vis) > cfg["task_time_limit"]
    embedded = queue.config("", tmp_path)
    assert embedded["broker_url"] == "filesystem://" and embedded["result_backend"].startswith("file://")
    assert (tmp_path / "broker" / "queue").is_dir()
    assert queue.queue_for("stylize", "fast") == queue.FAST_QUEUE
    assert queue.queue_for("stylize", "gatys") == queue.queue_for("portrait", "fast") == queue.SLOW_QUEUE
    with pytest.raises(ValueError, match="art.stylize"):
        queue.enqueue("art.nope", "id", "fast")


def test_task_names_match_the_registered_tasks():
    from worker import tasks  # noqa: F401  (registers them)
    registered = {n for n in queue.app.tasks if not n.startswith("celery.")}
    assert registered == set(queue.TASKS)


def test_app_never_imports_torch():
    """Create the app, hit every route, and check torch (and the engines) never got imported."""
    code = """
import sys, tempfile
from app import create_app
app = create_app({"VAR_DIR": tempfile.mkdtemp(), "ENQUEUE": lambda *a: None})
c = app.test_client()
for rule in app.url_map.iter_rules():
    c.get(str(rule).replace("<job_id>", "0" * 32).replace("<int:style_id>", "1").replace("<path:path>", "x"))
import worker.queue, worker.job_store, worker.storage
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "torchvision", "numpy")
             or m.startswith("worker.engines") or m == "worker.tasks")
print("IMPORTED", bad)
sys.exit(1 if bad else 0)
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "IMPORTED []" in out.stdout


def test_store_counts_each_clients_active_jobs(store):
    a, b, c = rec(client="ip:a"), rec("fast", client="ip:a"), rec(client="ip:b")
    for r in (a, b, c):
        store.create(r)
    assert (store.active("ip:a"), store.active("ip:b"), store.active("ip:z")) == (2, 1, 0)
    store.start(a["id"], 1)
    assert store.active("ip:a") == 2  # running still counts
    store.finish(a["id"], "failed")
    store.cancel(b["id"])
    assert store.active("ip:a") == 0 and store.active("ip:b") == 1
    store.delete(c["id"])
    assert store.active("ip:b") == 0


def test_store_releases_an_idempotency_key_only_for_its_holder(store):
    assert store.claim_idem("k", "job1 fp", 60) is None
    store.release_idem("k", "job2 fp")  # not the holder: nothing happens
    assert store.get_idem("k") == "job1 fp"
    store.release_idem("k", "job1 fp")
    assert store.get_idem("k") is None and store.claim_idem("k", "job3 fp", 60) is None


def test_sweep_fails_jobs_stuck_in_queued_or_running(store, monkeypatch):
    from worker import tasks
    monkeypatch.setenv("JOB_TIME_LIMIT", "600")
    now = 1_000_000.0
    lost = rec(created_at=now - 3600)  # recorded an hour ago, its message never sent
    waiting = rec(created_at=now - 3600)  # as old, but its message is in the broker: a long queue, not stuck
    fresh = rec(created_at=now - 5)  # the API may be between the record and the message
    dead = rec(created_at=now - 2000)
    alive = rec(created_at=now - 100)
    for r in (lost, waiting, fresh, dead, alive):
        store.create(r)
    store.start(dead["id"], 1)
    store.start(alive["id"], 2)
    store.update(dead["id"], started_at=now - 1900)  # past the 600 s hard limit: its worker died
    store.update(alive["id"], started_at=now - 90)
    assert tasks.sweep_once(store, lambda: {waiting["id"]}, now=now) == 2
    assert store.get(lost["id"])["error"]["code"] == "not_enqueued"
    assert store.get(dead["id"])["error"]["code"] == "worker_lost"
    assert [store.get(r["id"])["status"] for r in (waiting, fresh, alive)] == ["queued", "queued", "running"]
    assert tasks.sweep_once(store, lambda: {waiting["id"]}, now=now) == 0  # nothing left to fail


@pytest.mark.parametrize("backend", ["filesystem", "redis"])
def test_broker_message_ids_list_what_the_broker_holds(backend, tmp_path, request):
    from celery import Celery
    url = request.getfixturevalue("redis_url") if backend == "redis" else ""
    sender = Celery("sender")  # its own app (and connection pool) for this broker
    sender.conf.update(queue.config(url, tmp_path))
    if url:
        import redis
        redis.Redis.from_url(url).delete(*queue.QUEUES, "unacked")
    try:
        sender.send_task(queue.STYLIZE, args=["job-a"], task_id="job-a", queue=queue.FAST_QUEUE)
        sender.send_task(queue.PORTRAIT, args=["job-b"], task_id="job-b", queue=queue.SLOW_QUEUE)
        assert queue.message_ids(url, tmp_path) == {"job-a", "job-b"}
    finally:
        if url:
            redis.Redis.from_url(url).delete(*queue.QUEUES)


def test_beat_sends_the_sweep():
    cfg = queue.config("", None)
    assert cfg["beat_schedule"]["sweep"]["task"] == queue.SWEEP and cfg["beat_schedule"]["sweep"]["schedule"] <= 300
