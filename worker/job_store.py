"""Job records shared by the API and the worker: Redis when REDIS_URL is set, else SQLite under VAR_DIR.

A record is one JSON object: id, kind, status, queue, params, inputs (storage keys), created_at, started_at,
finished_at (epoch seconds), progress {step, total}, error {code, message} | None, result / preview (storage
keys), attempts, cancel (flag), client, worker_pid. Terminal states (succeeded, failed, canceled) never change:
every write goes through one atomic read-modify-write that drops changes to a terminal record.
Torch-free; the API imports it.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from typing import Callable, Optional

from worker import queue

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELED = "queued", "running", "succeeded", "failed", "canceled"
STATUSES = (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELED)
TERMINAL = (SUCCEEDED, FAILED, CANCELED)

Mutator = Callable[[dict], Optional[dict]]  # returns the new record, or None to leave it as is


class JobStore:
    """Backend-neutral job logic over a few primitives: _load, _mutate, the queued index, idempotency, workers."""

    # -- primitives each backend implements --
    def create(self, rec: dict) -> None: raise NotImplementedError
    def get(self, job_id: str) -> Optional[dict]: raise NotImplementedError
    def _mutate(self, job_id: str, fn: Mutator) -> Optional[dict]: raise NotImplementedError
    def queued_ahead(self, rec: dict) -> int: raise NotImplementedError
    def queue_depth(self, queue_name: Optional[str] = None) -> int: raise NotImplementedError
    def active(self, client: str) -> int: raise NotImplementedError  # the client's queued + running jobs
    def in_state(self, status: str) -> list[dict]: raise NotImplementedError  # queued or running records
    def claim_idem(self, key: str, job_id: str, ttl: int) -> Optional[str]: raise NotImplementedError
    def get_idem(self, key: str) -> Optional[str]: raise NotImplementedError
    def release_idem(self, key: str, value: str) -> None: raise NotImplementedError  # only if it still holds value
    def heartbeat(self, name: str, info: dict) -> None: raise NotImplementedError
    def workers(self, max_age: float = 15.0) -> list[dict]: raise NotImplementedError
    def older_than(self, ts: float) -> list[str]: raise NotImplementedError
    def delete(self, job_id: str) -> None: raise NotImplementedError
    def ping(self) -> bool: raise NotImplementedError
    def write_check(self) -> None: raise NotImplementedError  # a real small write; raises when writes fail

    # -- job logic, shared --
    def update(self, job_id: str, **fields) -> Optional[dict]:
        """Merge fields into a live record; a terminal record is returned unchanged."""
        def fn(rec):
            if rec["status"] in TERMINAL:
                return None
            return {**rec, **fields}
        return self._mutate(job_id, fn)

    def start(self, job_id: str, pid: int) -> Optional[dict]:
        """queued/running -> running, counting deliveries (a redelivered job arrives already 'running')."""
        def fn(rec):
            if rec["status"] in TERMINAL:
                return None
            return {**rec, "status": RUNNING, "started_at": time.time(), "worker_pid": pid,
                    "attempts": rec.get("attempts", 0) + 1, "progress": {"step": 0, "total": 0}}
        return self._mutate(job_id, fn)

    def finish(self, job_id: str, status: str, **fields) -> Optional[dict]:
        if status not in TERMINAL:
            raise ValueError(f"status must be one of {', '.join(TERMINAL)}, not {status!r}")
        return self.update(job_id, status=status, finished_at=time.time(), **fields)

    def cancel(self, job_id: str) -> Optional[dict]:
        """A queued job is canceled at once (it never starts); a running one gets the flag it polls each step."""
        def fn(rec):
            if rec["status"] in TERMINAL:
                return None
            if rec["status"] == QUEUED:
                return {**rec, "status": CANCELED, "finished_at": time.time(), "cancel": True,
                        "error": {"code": "canceled", "message": "canceled before it started"}}
            return {**rec, "cancel": True}
        return self._mutate(job_id, fn)

    def cancel_requested(self, job_id: str) -> bool:
        rec = self.get(job_id)
        return rec is None or bool(rec.get("cancel"))


def new_record(job_id: str, kind: str, queue_name: str, params: dict, inputs: dict, client: str = "") -> dict:
    return {"id": job_id, "kind": kind, "status": QUEUED, "queue": queue_name, "params": params,
            "inputs": inputs, "created_at": time.time(), "started_at": None, "finished_at": None,
            "progress": {"step": 0, "total": 0}, "error": None, "result": None, "preview": None,
            "attempts": 0, "cancel": False, "client": client, "worker_pid": None}


class RedisStore(JobStore):
    def __init__(self, url: str, prefix: str = "art:"):
        import redis
        self.r = redis.Redis.from_url(url, decode_responses=True, socket_timeout=5, socket_connect_timeout=2,
                                      health_check_interval=30)
        self.p = prefix

    def _k(self, *parts: str) -> str:
        return self.p + ":".join(parts)

    def create(self, rec):
        pipe = self.r.pipeline()
        pipe.set(self._k("job", rec["id"]), json.dumps(rec))
        pipe.zadd(self._k("jobs"), {rec["id"]: rec["created_at"]})
        if rec["status"] == QUEUED:
            pipe.zadd(self._k("queued", rec["queue"]), {rec["id"]: rec["created_at"]})
        if rec["status"] not in TERMINAL:
            pipe.zadd(self._k("active", rec.get("client", "")), {rec["id"]: rec["created_at"]})
        pipe.execute()

    def get(self, job_id):
        raw = self.r.get(self._k("job", job_id))
        return json.loads(raw) if raw else None

    def _mutate(self, job_id, fn):
        key = self._k("job", job_id)
        out: list = []

        def tx(pipe):
            raw = pipe.get(key)
            if not raw:
                return
            rec = json.loads(raw)
            new = fn(rec)
            out.append(new or rec)
            if new is None:
                return
            pipe.multi()
            pipe.set(key, json.dumps(new))
            pipe.zadd(self._k("jobs"), {job_id: new["created_at"]})
            if new["status"] != QUEUED:
                pipe.zrem(self._k("queued", new["queue"]), job_id)
            if new["status"] in TERMINAL:
                pipe.zrem(self._k("active", new.get("client", "")), job_id)
            if new["status"] == RUNNING:
                pipe.zadd(self._k("running"), {job_id: new["started_at"] or 0})
            else:
                pipe.zrem(self._k("running"), job_id)
        self.r.transaction(tx, key)
        return out[-1] if out else None

    def queued_ahead(self, rec):
        rank = self.r.zrank(self._k("queued", rec["queue"]), rec["id"])
        return int(rank) if rank is not None else 0

    def queue_depth(self, queue_name=None):
        names = [queue_name] if queue_name else list(queue.QUEUES)
        return sum(self.r.zcard(self._k("queued", q)) for q in names)

    def active(self, client):
        return int(self.r.zcard(self._k("active", client)))

    def in_state(self, status):
        if status == QUEUED:
            ids = [i for q in queue.QUEUES for i in self.r.zrange(self._k("queued", q), 0, -1)]
        elif status == RUNNING:
            ids = self.r.zrange(self._k("running"), 0, -1)
        else:
            raise ValueError("in_state lists queued or running jobs")
        recs = [self.get(i) for i in ids]
        return [r for r in recs if r and r["status"] == status]

    def claim_idem(self, key, job_id, ttl):
        if self.r.set(self._k("idem", key), job_id, nx=True, ex=ttl):
            return None
        return self.r.get(self._k("idem", key))

    def get_idem(self, key):
        return self.r.get(self._k("idem", key))

    def release_idem(self, key, value):
        k = self._k("idem", key)

        def tx(pipe):
            if pipe.get(k) == value:
                pipe.multi()
                pipe.delete(k)
        self.r.transaction(tx, k)

    def heartbeat(self, name, info):
        self.r.hset(self._k("workers"), name, json.dumps({**info, "name": name, "seen": time.time()}))

    def workers(self, max_age=15.0):
        now = time.time()
        rows = [json.loads(v) for v in self.r.hgetall(self._k("workers")).values()]
        return [w for w in rows if now - w["seen"] <= max_age]

    def older_than(self, ts):
        return list(self.r.zrangebyscore(self._k("jobs"), "-inf", ts))

    def delete(self, job_id):
        rec = self.get(job_id)
        pipe = self.r.pipeline()
        pipe.delete(self._k("job", job_id))
        pipe.zrem(self._k("jobs"), job_id)
        if rec:
            pipe.zrem(self._k("queued", rec["queue"]), job_id)
            pipe.zrem(self._k("active", rec.get("client", "")), job_id)
        pipe.zrem(self._k("running"), job_id)
        pipe.execute()

    def ping(self):
        import redis
        try:
            return bool(self.r.ping())
        except redis.RedisError:
            return False

    def write_check(self):
        # A PING passes on a Redis that refuses writes (maxmemory + noeviction, a read-only replica, MISCONF).
        self.r.set(self._k("health"), str(time.time()), ex=60)


class SQLiteStore(JobStore):
    SCHEMA = """
    CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, status TEXT, queue TEXT, created_at REAL, data TEXT);
    CREATE INDEX IF NOT EXISTS jobs_queued ON jobs (queue, status, created_at);
    CREATE TABLE IF NOT EXISTS idem (key TEXT PRIMARY KEY, job_id TEXT, expires REAL);
    CREATE TABLE IF NOT EXISTS workers (name TEXT PRIMARY KEY, seen REAL, info TEXT);
    CREATE TABLE IF NOT EXISTS health (k TEXT PRIMARY KEY, v REAL);
    """

    def __init__(self, path: str):
        self.path = path
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        self.local = threading.local()
        with self._db() as db:
            db.executescript(self.SCHEMA)

    def _db(self) -> sqlite3.Connection:
        # One connection per process and thread: gunicorn threads and forked pool children never share one.
        key = (os.getpid(), threading.get_ident())
        conn = getattr(self.local, "conn", None)
        if conn is None or getattr(self.local, "key", None) != key:
            conn = sqlite3.connect(self.path, timeout=15, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self.local.conn, self.local.key = conn, key
        return conn

    def create(self, rec):
        self._db().execute("INSERT INTO jobs VALUES (?, ?, ?, ?, ?)",
                           (rec["id"], rec["status"], rec["queue"], rec["created_at"], json.dumps(rec)))

    def get(self, job_id):
        row = self._db().execute("SELECT data FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def _mutate(self, job_id, fn):
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT data FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if not row:
                db.execute("COMMIT")
                return None
            rec = json.loads(row[0])
            new = fn(rec)
            if new is not None:
                db.execute("UPDATE jobs SET status = ?, created_at = ?, data = ? WHERE id = ?",
                           (new["status"], new["created_at"], json.dumps(new), job_id))
            db.execute("COMMIT")
            return new or rec
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def queued_ahead(self, rec):
        row = self._db().execute(
            "SELECT COUNT(*) FROM jobs WHERE queue = ? AND status = 'queued' AND created_at < ?",
            (rec["queue"], rec["created_at"])).fetchone()
        return int(row[0])

    def queue_depth(self, queue_name=None):
        if queue_name:
            row = self._db().execute("SELECT COUNT(*) FROM jobs WHERE status = 'queued' AND queue = ?",
                                     (queue_name,)).fetchone()
        else:
            row = self._db().execute("SELECT COUNT(*) FROM jobs WHERE status = 'queued'").fetchone()
        return int(row[0])

    def in_state(self, status):
        if status not in (QUEUED, RUNNING):
            raise ValueError("in_state lists queued or running jobs")
        return [json.loads(r[0]) for r in
                self._db().execute("SELECT data FROM jobs WHERE status = ?", (status,)).fetchall()]

    def active(self, client):
        row = self._db().execute("SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running') "
                                 "AND json_extract(data, '$.client') = ?", (client,)).fetchone()
        return int(row[0])

    def claim_idem(self, key, job_id, ttl):
        db = self._db()
        now = time.time()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM idem WHERE key = ? AND expires < ?", (key, now))
            row = db.execute("SELECT job_id FROM idem WHERE key = ?", (key,)).fetchone()
            if not row:
                db.execute("INSERT INTO idem VALUES (?, ?, ?)", (key, job_id, now + ttl))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return row[0] if row else None

    def get_idem(self, key):
        row = self._db().execute("SELECT job_id FROM idem WHERE key = ? AND expires >= ?",
                                 (key, time.time())).fetchone()
        return row[0] if row else None

    def release_idem(self, key, value):
        self._db().execute("DELETE FROM idem WHERE key = ? AND job_id = ?", (key, value))

    def heartbeat(self, name, info):
        self._db().execute("INSERT OR REPLACE INTO workers VALUES (?, ?, ?)",
                           (name, time.time(), json.dumps({**info, "name": name})))

    def workers(self, max_age=15.0):
        rows = self._db().execute("SELECT seen, info FROM workers WHERE seen >= ?",
                                  (time.time() - max_age,)).fetchall()
        return [{**json.loads(info), "seen": seen} for seen, info in rows]

    def older_than(self, ts):
        return [r[0] for r in self._db().execute("SELECT id FROM jobs WHERE created_at < ?", (ts,)).fetchall()]

    def delete(self, job_id):
        self._db().execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    def ping(self):
        try:
            self._db().execute("SELECT 1").fetchone()
            return True
        except sqlite3.Error:
            return False

    def write_check(self):
        self._db().execute("INSERT OR REPLACE INTO health VALUES ('write', ?)", (time.time(),))


_stores: dict[tuple, JobStore] = {}


def get_store(redis_url: Optional[str] = None, var_dir: Optional[str] = None) -> JobStore:
    """The store for this env (cached per process): Redis if a URL is given or set, else SQLite in VAR_DIR."""
    url = redis_url if redis_url is not None else queue.redis_url()
    path = os.path.join(str(var_dir or queue.var_dir()), "jobs.sqlite3")
    key = (url, None if url else path)
    if key not in _stores:
        _stores[key] = RedisStore(url) if url else SQLiteStore(path)
    return _stores[key]
