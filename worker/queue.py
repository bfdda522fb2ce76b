"""The Celery app, its config from env, and THE task names. Torch-free: the API imports this to enqueue by name.

Two setups, picked by env:
- no REDIS_URL (the embedded default): Celery's filesystem transport and a file result store under VAR_DIR,
  job records in SQLite (worker/job_store.py). Needs no server; one machine.
- REDIS_URL: Redis for the broker, results and job records.

Jobs are JSON only, acked late and re-queued if the worker process dies; one message prefetched at a time.
Fast jobs (fast, translate) and long jobs (gatys, portrait) go to separate queues so a quick job never waits behind a long one.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from celery import Celery

from worker import params, settings

ROOT = Path(__file__).resolve().parent.parent

# Task names: the one place they are spelt. tests/test_queue.py checks them against the worker's registry.
STYLIZE = "art.stylize"
PORTRAIT = "art.portrait"
CLEANUP = "art.cleanup"
SWEEP = "art.sweep"  # fails jobs stuck in queued/running (worker/tasks.py sweep)
TASKS = (STYLIZE, PORTRAIT, CLEANUP, SWEEP)
SWEEP_EVERY = 60.0

# The queues and which job goes to which: the request contract's (worker/params.py), named here for Celery's use.
FAST_QUEUE, SLOW_QUEUE, QUEUES, FAST_ENGINES, queue_for = (params.FAST_QUEUE, params.SLOW_QUEUE, params.QUEUES,
                                                          params.FAST_ENGINES, params.queue_for)


def var_dir() -> Path:
    return settings.get().VAR_DIR


def redis_url() -> str | None:
    return settings.get().REDIS_URL or None




def time_limits() -> tuple[int, int]:
    """(soft, hard) seconds per job. The soft limit fails the job with code time_limit; hard kills the process."""
    return settings.get().time_limits


def config(url: str | None = None, var: str | Path | None = None) -> dict:
    """Celery settings for a Redis URL or, with none, the embedded filesystem setup under var (VAR_DIR)."""
    soft, hard = time_limits()
    visibility = settings.get().visibility_timeout
    url = redis_url() if url is None else (url or None)
    base = Path(var) if var else var_dir()
    if url:
        broker, backend = url, url
        broker_opts = {"visibility_timeout": visibility}
    else:
        box = base / "broker"
        for sub in ("queue", "processed", "control"):
            (box / sub).mkdir(parents=True, exist_ok=True)
        (base / "celery-results").mkdir(parents=True, exist_ok=True)
        broker, backend = "filesystem://", f"file://{base / 'celery-results'}"
        broker_opts = {"data_folder_in": str(box / "queue"), "data_folder_out": str(box / "queue"),
                       "processed_folder": str(box / "processed"), "control_folder": str(box / "control"),
                       "store_processed": False, "polling_interval": 0.1, "visibility_timeout": visibility}
    return dict(
        broker_url=broker,
        result_backend=backend,
        broker_transport_options=broker_opts,
        result_backend_transport_options={"visibility_timeout": visibility},
        visibility_timeout=visibility,
        broker_connection_retry_on_startup=True,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        task_ignore_result=True,  # the job store holds status and results; Celery's backend stays idle
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_soft_time_limit=soft,
        task_time_limit=hard,
        task_default_queue=SLOW_QUEUE,
        task_routes={STYLIZE: {"queue": SLOW_QUEUE}, PORTRAIT: {"queue": SLOW_QUEUE},
                     CLEANUP: {"queue": FAST_QUEUE}, SWEEP: {"queue": FAST_QUEUE}},
        worker_enable_remote_control=bool(url),  # the filesystem transport has no broadcast worth polling
        worker_hijack_root_logger=False,
        beat_schedule={"cleanup": {"task": CLEANUP, "schedule": float(settings.get().CLEANUP_EVERY)},
                       "sweep": {"task": SWEEP, "schedule": SWEEP_EVERY}},
        timezone="UTC",
    )


app = Celery("art", include=["worker.tasks"])
app.conf.update(config())


def configure(url: str | None, var: str | Path | None) -> None:
    """Point this process's Celery app at another broker (the API's config may differ from the env)."""
    app.conf.update(config(url, var))


def enqueue(name: str, job_id: str, queue: str) -> None:
    """Send a task by name with only the job id; the task id is the job id."""
    if name not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)}, not {name!r}")
    app.send_task(name, args=[job_id], task_id=job_id, queue=queue)


def broker_ok(url: str | None = None, var: str | Path | None = None) -> tuple[bool, str]:
    """Whether the broker answers: Redis PING, or the queue folder is writable."""
    url = redis_url() if url is None else (url or None)
    if url:
        import redis
        try:
            redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
            return True, "redis"
        except redis.RedisError as e:
            return False, f"redis unreachable: {e}"
    box = (Path(var) if var else var_dir()) / "broker" / "queue"
    return (os.access(box, os.W_OK), "filesystem")


def message_ids(url: str | None = None, var: str | Path | None = None) -> set[str]:
    """The ids (= job ids) of the task messages the broker holds: waiting in a queue, or (Redis) delivered to a
    worker and not yet acked. The sweeper fails a long-queued job whose message is not among them."""
    url = redis_url() if url is None else (url or None)
    ids: set[str] = set()
    if url:
        import redis
        r = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        try:
            raw = [m for q in QUEUES for m in r.lrange(q, 0, -1)]
            raw += [json.loads(v)[0] for v in r.hvals("unacked")]  # [message, exchange, routing key]
        finally:
            r.close()
        for m in raw:
            msg = json.loads(m) if isinstance(m, (bytes, str)) else m
            ids.add(msg.get("headers", {}).get("id"))
    else:
        for f in ((Path(var) if var else var_dir()) / "broker" / "queue").glob("*.msg"):
            try:
                ids.add(json.loads(f.read_text()).get("headers", {}).get("id"))
            except (OSError, ValueError):  # taken by a worker meanwhile, or half written
                continue
    ids.discard(None)
    return ids
