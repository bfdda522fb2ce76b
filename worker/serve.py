"""`python -m worker.serve` (what `make serve` runs): the API under gunicorn plus Celery workers, one command.

- API: gunicorn, gthread workers, on HOST:PORT (default 0.0.0.0:5000). It imports no torch.
- Workers: one Celery worker per queue group in WORKER_QUEUES (default "fast;slow": a worker for fast jobs and
  one for gatys/portraits, so quick jobs never wait behind long ones; "fast,slow" is one worker for both). Each
  is prefork with one child (-c 1): models load once in that child, never in the parent.
- Celery beat sends the periodic cleanup of expired uploads and results (RESULT_TTL, every CLEANUP_EVERY s).
- Broker: REDIS_URL if set, else the embedded filesystem transport under VAR_DIR.
Ctrl-C (or SIGTERM) stops everything this started: each child runs in its own process group, which gets
SIGTERM (Celery workers SIGQUIT: a cold shutdown), then SIGKILL for the group after a grace period. If any child dies, the rest are stopped too.
If this process dies without that (SIGKILL, a crash), each child gets the same signal from the kernel (Linux's
parent-death signal), so nothing lives on holding the port or consuming the queue. One supervisor per VAR_DIR:
a second one refuses to start beside a live one (a flock on VAR_DIR/serve.lock, which holds its pid).
"""
from __future__ import annotations

import ctypes
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from worker import queue, settings
from worker.settings import Settings


def commands(s: Settings | None = None) -> list[tuple[str, list[str]]]:
    s = s or settings.get()
    py = sys.executable
    api = [py, "-m", "gunicorn", "--worker-class", "gthread", "--workers", str(s.WEB_CONCURRENCY),
           "--threads", str(s.GUNICORN_THREADS), "--bind", f"{s.HOST}:{s.PORT}", "--timeout", "60",
           "--graceful-timeout", "10", "--access-logfile", s.ACCESS_LOG, "app:create_app()"]
    out = [("api", api)]
    groups = [g.strip() for g in s.WORKER_QUEUES.split(";") if g.strip()]
    for i, group in enumerate(groups):
        names = [q.strip() for q in group.split(",")]
        bad = [q for q in names if q not in queue.QUEUES]
        if bad:
            raise SystemExit(f"WORKER_QUEUES: unknown queue(s) {bad}; queues are {', '.join(queue.QUEUES)}")
        cmd = [py, "-m", "celery", "-A", "worker.queue", "worker", "-Q", ",".join(names), "-c", "1",
               "-P", "prefork", "-n", f"{'-'.join(names)}@%h", "-l", s.LOG_LEVEL,
               "--without-gossip", "--without-mingle"]
        out.append((f"worker[{group}]", cmd))
    # The periodic cleanup's clock (it only sends the cleanup task; a worker runs it).
    out.append(("beat", [py, "-m", "celery", "-A", "worker.queue", "beat", "-l", s.LOG_LEVEL,
                         "-s", str(s.VAR_DIR / "celerybeat-schedule")]))
    return out


_libc = ctypes.CDLL(None, use_errno=True)  # loaded before any fork: the child only calls prctl
PR_SET_PDEATHSIG = 1


def stop_signal(name: str) -> int:
    # Celery workers: cold shutdown (SIGQUIT) stops a running job at once; its unacked message goes back to the
    # queue (Redis) and runs again on the next start. Others: SIGTERM, their graceful stop.
    return signal.SIGQUIT if name.startswith("worker") else signal.SIGTERM


def die_with_parent(sig: int, parent: int):
    """A preexec_fn: the kernel sends sig to this child when the supervisor dies, however it dies."""
    def preexec():
        os.setsid()  # own process group: a terminal's Ctrl-C reaches only the supervisor
        _libc.prctl(PR_SET_PDEATHSIG, ctypes.c_ulong(sig), 0, 0, 0)
        if os.getppid() != parent:  # the supervisor died before prctl took effect
            os.kill(os.getpid(), sig)
    return preexec


def lock(var: Path):
    """Hold VAR_DIR/serve.lock for this process's life (the kernel drops it when we die); exit naming the
    supervisor that holds it."""
    path = var / "serve.lock"
    f = open(path, "a+")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.seek(0)
        other = f.read().strip() or "?"
        raise SystemExit(f"another worker.serve (pid {other}) is already running on VAR_DIR {var} "
                         f"(lock {path}); stop it first, or set VAR_DIR (and PORT) for a second one")
    f.seek(0)
    f.truncate()
    f.write(f"{os.getpid()}\n")
    f.flush()
    return f


def stop(procs: list[tuple[str, subprocess.Popen]], grace: float = 10.0) -> None:
    for name, p in procs:
        if p.poll() is None:
            p.send_signal(stop_signal(name))
    deadline = time.time() + grace
    for name, p in procs:
        try:
            p.wait(max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            print(f"{name} did not stop within {grace:g} s; killing it", file=sys.stderr, flush=True)
    for _, p in procs:  # whatever is left, and any grandchildren in the group
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()


def health(port) -> dict | None:
    """/api/health's answer when it is 200, else None."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as r:
            return json.loads(r.read()) if r.status == 200 else None
    except (OSError, ValueError):
        return None


def wait_healthy(port: str, procs, timeout: float = 120.0) -> bool:
    end = time.time() + timeout
    while time.time() < end and all(p.poll() is None for _, p in procs):
        if health(port) is not None:
            return True
        time.sleep(0.2)
    return False


def main(s: Settings | None = None) -> int:
    s = s or settings.get()
    queue.var_dir().mkdir(parents=True, exist_ok=True)
    held = lock(queue.var_dir())  # noqa: F841  (kept open until we exit)
    procs: list[tuple[str, subprocess.Popen]] = []
    stopping = False

    def on_signal(signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        for name, cmd in commands(s):
            # Own process group (we stop the children in order), and the kernel stops it if we die.
            procs.append((name, subprocess.Popen(cmd, preexec_fn=die_with_parent(stop_signal(name), os.getpid()))))
        port = s.PORT
        mode = "Redis " + queue.redis_url() if queue.redis_url() else f"embedded (no Redis; {queue.var_dir()})"
        t0 = time.time()
        if wait_healthy(port, procs):
            print(f"serving on http://localhost:{port}  ({mode}); Ctrl-C stops", flush=True)
        announced = False
        watch = s.SERVE_PARENT_PID  # tests: stop when the process that started us is gone
        while not stopping:
            if watch and not os.path.exists(f"/proc/{watch}"):
                print("stopping: the parent process is gone", file=sys.stderr, flush=True)
                return 1
            dead = [(n, p.returncode) for n, p in procs if p.poll() is not None]
            if dead:
                print(f"stopping: {dead[0][0]} exited with {dead[0][1]}", file=sys.stderr, flush=True)
                return 1
            if not announced and (h := health(port)) and h.get("ready") and h["workers"]["count"] >= len(procs) - 2:
                # every worker has its models loaded: the first job will not wait for a warm-up
                print(f"ready: models loaded in every worker ({time.time() - t0:.1f} s after start)", flush=True)
                announced = True
            time.sleep(0.5)
        return 0
    finally:
        stop(procs)


if __name__ == "__main__":
    sys.exit(main())
