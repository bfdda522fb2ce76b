"""Thin Celery tasks: a job id in, inputs read from storage, an engine called, progress and result written back.

Tasks get ids, never bytes. Engines (and torch) are imported inside the pool process on first use and keep their
models cached there, so the parent worker process never touches torch or CUDA. Failures end in a clear
error code on the job record: canceled, time_limit, out_of_memory, invalid_params, models_missing,
input_missing, redelivery_limit, worker_lost, not_enqueued (the periodic sweep), internal.
"""
from __future__ import annotations

import importlib
import io
import logging
import mmap
import os
import re
import socket
import struct
import threading
import time

from celery import signals
from celery.exceptions import SoftTimeLimitExceeded
from PIL import Image

from worker import params, queue, settings
from worker.job_store import get_store
from worker.storage import cleanup as cleanup_storage, get_storage

log = logging.getLogger(__name__)
app = queue.app

# Engine modules by name; tests swap in a fake engine here.
ENGINES = {"gatys": "worker.engines.gatys", "fast": "worker.engines.fast", "portrait": "worker.engines.portrait",
           "translate": "worker.engines.translate", "upscale": "worker.engines.upscale"}


def max_deliveries() -> int:
    return settings.get().MAX_DELIVERIES


class Failed(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def engine(name: str):
    return importlib.import_module(ENGINES[name])


def load_image(storage, key: str) -> Image.Image:
    try:
        data = storage.get(key)
    except FileNotFoundError:
        raise Failed("input_missing", f"the uploaded input {key.rsplit('/', 1)[-1]} has expired or is gone")
    img = Image.open(io.BytesIO(data), formats=["PNG"])
    img.load()
    return img


def png_bytes(img: Image.Image) -> bytes:
    # A fresh RGB image: no EXIF, GPS or text chunks can ride along into the result.
    clean = Image.new("RGB", img.size)
    clean.paste(img.convert("RGB"))
    buf = io.BytesIO()
    clean.save(buf, "PNG", compress_level=1)  # fast to write; size matters less than latency here
    return buf.getvalue()


def jpeg_bytes(img: Image.Image, quality: int = 85) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def is_oom(e: BaseException) -> bool:
    """CUDA's OutOfMemoryError, and an allocation failure on the CPU (MemoryError, or torch's "DefaultCPUAllocator:
    can't allocate memory" RuntimeError): both get the one smaller-size retry."""
    text = str(e).lower()
    return (isinstance(e, MemoryError) or type(e).__name__ == "OutOfMemoryError" or "out of memory" in text
            or "can't allocate memory" in text or "not enough memory" in text)


def snapshot_every(steps) -> int:
    return max(1, int(steps) // 10) if steps else 20


class Run:
    """One delivery of one job: the callbacks the engine sees and the record writes around it."""

    def __init__(self, job_id: str):
        self.id = job_id
        self.store = get_store()
        self.storage = get_storage()
        self.since = None  # (time, step) of the first report: model loading and style targets come before it

    def on_progress(self, p) -> None:
        if self.since is None:
            self.since = [time.time(), int(p.step)]
        fields = {"progress": {"step": int(p.step), "total": int(p.total), "since": self.since}}
        if getattr(p, "preview", None) is not None:
            key = f"jobs/{self.id}/preview.jpg"
            self.storage.put(key, jpeg_bytes(p.preview))
            fields["preview"] = key
        self.store.update(self.id, **fields)

    def should_cancel(self) -> bool:
        return self.store.cancel_requested(self.id)


def call_engine(rec: dict, run: Run, size: int) -> Image.Image:
    """The engine call, built from the job's params validated again by their model (worker/params.py): every
    field is a keyword of the engine's run(); nothing is merged by hand."""
    inputs = rec["inputs"]
    p = params.load(rec["kind"], rec["params"], inputs)  # a ParamError is a ValueError: invalid_params
    if params.record(p) != rec["params"]:  # a record from an older API left defaults out: store the effective ones
        run.store.update(run.id, params={**params.record(p), "size": size})
    kw = {**p.kwargs(), "size": size, "on_progress": run.on_progress, "should_cancel": run.should_cancel}
    kw.pop("upscale", None)  # run_job enlarges the finished picture
    styles = [load_image(run.storage, k) for k in inputs.get("styles", [])]
    content = load_image(run.storage, inputs["content"]) if inputs.get("content") else None
    if rec["kind"] == "portrait":
        if content is not None:
            kw["photo"] = content  # the user's own photo instead of a generated face (then there is no seed)
        return engine("portrait").run(kw.pop("seed", None), styles[0] if styles else None, snapshot_every=5, **kw)
    if p.engine == "translate":
        return engine("translate").run(content, **kw)
    if p.engine == "fast":
        return engine("fast").run(content, styles[0] if styles else None, **kw)
    return engine("gatys").run(content, styles, snapshot_every=snapshot_every(p.steps), **kw)


def upscaled(img: Image.Image, factor: int, run: Run) -> Image.Image:
    """The finished picture enlarged for print; its tiles continue the job's progress (and set the ETA's pace)."""
    if factor == 1:
        return img
    done = ((run.store.get(run.id) or {}).get("progress") or {}).get("total") or 0
    run.since = None

    def report(p) -> None:
        p.step, p.total = done + p.step, done + p.total
        run.on_progress(p)

    return engine("upscale").run(img, factor, on_progress=report, should_cancel=run.should_cancel)


def run_job(job_id: str) -> str:
    """Run one job to a terminal state; returns that state. Never raises for a job's own failure."""
    run = Run(job_id)
    store = run.store
    rec = store.get(job_id)
    if rec is None or rec["status"] in ("succeeded", "failed", "canceled"):
        return rec["status"] if rec else "missing"  # canceled while queued, or a duplicate delivery
    rec = store.start(job_id, os.getpid())
    if rec["status"] != "running":
        return rec["status"]
    if rec["attempts"] > max_deliveries():
        store.finish(job_id, "failed", error={"code": "redelivery_limit", "message":
                     f"the job was delivered {rec['attempts']} times (its worker died each time); giving up"})
        return "failed"
    size = int(rec["params"].get("size", 512))
    t0 = time.perf_counter()
    try:
        try:
            out = call_engine(rec, run, size)
        except Exception as e:
            if not is_oom(e):
                raise
            size = max(64, size * 3 // 4)  # retry once, smaller
            log.warning("job %s: out of memory, retrying at %d px", job_id, size)
            free_gpu_memory()
            store.update(job_id, params={**rec["params"], "size": size})
            try:
                out = call_engine(rec, run, size)
            except Exception as e2:
                if is_oom(e2):
                    raise Failed("out_of_memory", f"out of memory even at {size} px; try a smaller size")
                raise
        face = portrait_face(run, out)  # before upscaling, which makes a new image
        out = upscaled(out, rec["params"].get("upscale") or 1, run)
        t1 = time.perf_counter()
        key = f"jobs/{job_id}/result.png"
        run.storage.put(key, png_bytes(out))
        # timing: where a job's seconds went (bench/api_overhead.py reads it; not part of the API's job object)
        done = store.finish(job_id, "succeeded", result=key, width=out.width, height=out.height,
                            timing={"engine": round(t1 - t0, 4), "task": round(time.perf_counter() - t0, 4)},
                            **face)
        return done["status"]
    except Failed as e:
        return end(store, job_id, "failed", e.code, e.message)
    except SoftTimeLimitExceeded:
        return end(store, job_id, "failed", "time_limit",
                   f"the job ran past the {queue.time_limits()[0]} s time limit; try fewer steps or a smaller size")
    except Exception as e:
        name = type(e).__name__
        if name == "Canceled":
            return end(store, job_id, "canceled", "canceled", "canceled while running")
        if name == "NoFace":  # worker.engines.portrait: the photo has no face
            return end(store, job_id, "failed", "no_face", public(str(e)))
        if name == "ModelsMissing":
            log.error("job %s: %s", job_id, e)
            return end(store, job_id, "failed", "models_missing", public(str(e)))
        if isinstance(e, ValueError):
            return end(store, job_id, "failed", "invalid_params", public(str(e)))
        log.exception("job %s failed", job_id)
        # the details (exception text, paths) stay in the worker's log, found by the job id
        return end(store, job_id, "failed", "internal",
                   f"the job failed with an internal error; the worker's log has the details (job {job_id})")


# What a portrait's params record once it has run: the effective GAN settings, the chosen candidate, faces found.
FACE_FACTS = ("truncation", "candidates", "candidate", "faces_found")


def portrait_face(run: Run, out: Image.Image) -> dict:
    """A portrait's painted face (the aligned photo crop or the upscaled GAN face) stored as jobs/<id>/face.png,
    and its facts added to the params; {} for other jobs."""
    face = out.info.get("face")
    if not isinstance(face, Image.Image):
        return {}
    key = f"jobs/{run.id}/face.png"
    run.storage.put(key, png_bytes(face))
    facts = {k: out.info[k] for k in FACE_FACTS if out.info.get(k) is not None}
    return {"face": key, "params": {**run.store.get(run.id)["params"], **facts}}


PATH = re.compile(r"(?:[A-Za-z]:)?(?:[/\\][\w.@+~-]+){2,}[/\\]?")


def public(message: str) -> str:
    """A job error for the client: no server paths (the worker's log keeps the original)."""
    return PATH.sub("<path>", message)[:500]


def end(store, job_id: str, status: str, code: str, message: str) -> str:
    rec = store.finish(job_id, status, error={"code": code, "message": message})
    return rec["status"] if rec else status


def free_gpu_memory() -> None:
    import sys
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


@app.task(name=queue.STYLIZE)
def stylize(job_id: str) -> str:
    return run_job(job_id)


@app.task(name=queue.PORTRAIT)
def portrait(job_id: str) -> str:
    return run_job(job_id)


@app.task(name=queue.CLEANUP)
def cleanup() -> int:
    ttl = settings.get().RESULT_TTL
    return cleanup_storage(get_store(), get_storage(), ttl)


QUEUED_GRACE = 600.0  # s: a queued record this old whose message the broker does not hold never will run


def sweep_once(store, message_ids, now: float | None = None) -> int:
    """Fail the jobs stuck for good: running past the hard time limit (its worker or host died without a
    word: the limit would have ended it otherwise), or queued for QUEUED_GRACE with no message in the broker
    (the record was written, the message never sent or lost). Returns how many it failed."""
    now = time.time() if now is None else now
    hard = queue.time_limits()[1]
    n = 0
    for rec in store.in_state("running"):
        if now - (rec.get("started_at") or rec["created_at"]) > hard + 120:
            n += end(store, rec["id"], "failed", "worker_lost", "the worker running this job stopped without "
                     "finishing it; submit it again") == "failed"
    old = [r for r in store.in_state("queued") if now - r["created_at"] > QUEUED_GRACE]
    if old:
        held = message_ids()  # listed after the records: a message sent meanwhile is seen
        for rec in old:
            if rec["id"] not in held:
                n += end(store, rec["id"], "failed", "not_enqueued", "the job was recorded but its queue "
                         "message was lost, so no worker will run it; submit it again") == "failed"
    return n


@app.task(name=queue.SWEEP)
def sweep() -> int:
    n = sweep_once(get_store(), queue.message_ids)
    if n:
        log.warning("sweep: failed %d stuck job(s)", n)
    return n


@signals.task_failure.connect
def _hard_time_limit(sender=None, task_id=None, exception=None, args=None, **_):
    # A hard time limit kills the pool process; Celery reports it here, in the parent. The soft limit (raised
    # inside the job) normally ends it first; this covers a job stuck where it cannot see the soft limit.
    if type(exception).__name__ == "TimeLimitExceeded" and args:
        end(get_store(), args[0], "failed", "time_limit",
            f"the job was stopped at the hard {queue.time_limits()[1]} s time limit")


# What each queue's jobs need warm: a worker warms only the engines of the queues it consumes.
WARM_FOR = {queue.FAST_QUEUE: queue.FAST_ENGINES, queue.SLOW_QUEUE: ("gatys", "portrait")}

# Whether this worker's pool child has its models loaded (byte 0), and the Gatys seconds per step per megapixel
# it measured (bytes 8-16): anonymous shared memory, made in the parent worker process before it forks the child
# (-c 1); the child writes it, the parent's heartbeat reports it (the API refuses Gatys jobs that cannot finish).
_ready = mmap.mmap(-1, 16)
COST = struct.Struct("d")


def measure_gatys(m, side: int = 192, steps: int = 3) -> float:
    """Seconds per Gatys step per output megapixel on this worker: the time `steps` more steps add to a run at a
    modest size (the difference leaves out the per-job costs: style targets, the pyramid), after an untimed run
    that pays this size's one-off costs. Per pixel a small run costs a little more than a large one: the
    estimate errs on the safe side. 0.0 when the timing came out meaningless (then nothing is refused)."""
    img = Image.new("RGB", (side, side), (120, 110, 100))
    m.run(img, [img], size=side, steps=1)
    times = []
    for n in (1, 1 + steps):
        t0 = time.perf_counter()
        m.run(img, [img], size=side, steps=n)
        times.append(time.perf_counter() - t0)
    extra = times[1] - times[0]
    return extra / steps / (side * side / 1e6) if extra > 0 else 0.0


def consumed_queues() -> list[str]:
    return sorted(q.name for q in app.amqp.queues.consume_from.values()) if app.amqp.queues.consume_from else []


def warm(queues=None) -> None:
    """Load the models the given queues' engines need, with a tiny run each, so the first real job is quick."""
    tiny = Image.new("RGB", (32, 32), (128, 128, 128))
    runs = {"fast": lambda m: (m.run(tiny, preset=0, size=32), m.run(tiny, tiny, size=32)),
            "translate": lambda m: None,  # its models are the user's own, loaded by name; this imports torch
            "gatys": lambda m: COST.pack_into(_ready, 8, measure_gatys(m)),  # its first run loads the models
            "portrait": lambda m: m.run(0, preset=0, size=64)}
    wanted = {e for q in (queue.QUEUES if queues is None else queues) for e in WARM_FOR.get(q, ())}
    t0 = time.perf_counter()
    for name in (n for n in runs if n in wanted):
        try:
            runs[name](engine(name))
        except Exception as e:  # a missing engine or model: the job that needs it fails with a clear code
            log.warning("warm-up of %s skipped: %s: %s", name, type(e).__name__, e)
    log.info("models warm for %s in %.1f s", ", ".join(sorted(wanted)), time.perf_counter() - t0)


def _warm_then_ready(queues) -> None:
    try:
        warm(queues)
    finally:
        _ready[0] = 1


@signals.worker_process_init.connect
def _warm_child(**_):
    # In the pool child, never the parent (no CUDA before fork). A thread: process init must return within
    # seconds or Celery kills the child; a job that arrives meanwhile waits on the engines' own load locks.
    _ready[0] = 0
    if settings.get().WARM_MODELS:
        threading.Thread(target=_warm_then_ready, args=(consumed_queues(),), daemon=True, name="warm").start()
    else:
        _ready[0] = 1


# Liveness for /api/health: the parent worker process writes a heartbeat record every few seconds, and at once
# when its child becomes ready. It works the same on both brokers (the filesystem transport has no broadcast for
# `inspect ping`).
def _beat(name: str, queues: list[str]) -> None:
    last, sent = 0.0, None
    while True:
        ready = bool(_ready[0])
        if ready != sent or time.time() - last >= 5:
            try:
                cost = COST.unpack_from(_ready, 8)[0] or None
                get_store().heartbeat(name, {"queues": queues, "pid": os.getpid(), "ready": ready,
                                             "gatys_step_cost": cost})
                last, sent = time.time(), ready
            except Exception:  # the store being briefly down must not kill the heartbeat
                log.warning("heartbeat failed", exc_info=True)
                last = time.time()
        time.sleep(0.2)


@signals.worker_ready.connect
def _start_heartbeat(sender=None, **_):
    queues = sorted(q.name for q in sender.app.amqp.queues.consume_from.values()) if sender else []
    name = getattr(sender, "hostname", None) or f"worker@{socket.gethostname()}:{os.getpid()}"
    threading.Thread(target=_beat, args=(name, queues), daemon=True).start()
