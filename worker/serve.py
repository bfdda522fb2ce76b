"""`python -m worker.serve` (what `make serve` runs): the API under gunicorn plus Celery workers, one command.

- API: gunicorn, gthread workers, on HOST:PORT (default 0.0.0.0:5000). It imports no torch.
- Workers: one Celery worker per queue group in WORKER_QUEUES (default "fast;slow": a worker for fast jobs and
  one for gatys/portraits, so quick jobs never wait behind long ones; "fast,slow" is one worker for both). Each
  is prefork with one child (-c 1): models load once in that child, never in the parent.
- Celery beat sends the periodic cleanup of expired uploads and results (RESULT_TTL, every CLEANUP_EVERY s).
- Broker: REDIS_URL if set, else the embedded filesystem transport under VAR_DIR.
Ctrl-C (or SIGTERM) stops everything this started: each child runs in its own process group, which gets
SIGTERM (Celery workers SIGQUIT: a cold shutdown), then SIGKILL for the group after a grace period. If any child dies, the rest are stopped too.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

from worker import queue


def env(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def commands() -> list[tuple[str, list[str]]]:
    py = sys.executable
    port, host = env("PORT", "5000"), env("HOST", "0.0.0.0")
    api = [py, "-m", "gunicorn", "--worker-class", "gthread", "--workers", env("WEB_CONCURRENCY", "2"),
           "--threads", env("GUNICORN_THREADS", "8"), "--bind", f"{host}:{port}", "--timeout", "60",
           "--graceful-timeout", "10", "--access-logfile", env("ACCESS_LOG", "-"), "app:create_app()"]
    out = [("api", api)]
    groups = [g.strip() for g in env("WORKER_QUEUES", "fast;slow").split(";") if g.strip()]
    for i, group in enumerate(groups):
        names = [q.strip() for q in group.split(",")]
        bad = [q for q in names if q not in queue.QUEUES]
        if bad:
            raise SystemExit(f"WORKER_QUEUES: unknown queue(s) {bad}; queues are {', '.join(queue.QUEUES)}")
        cmd = [py, "-m", "celery", "-A", "worker.queue", "worker", "-Q", ",".join(names), "-c", "1",
               "-P", "prefork", "-n", f"{'-'.join(names)}@%h", "-l", env("LOG_LEVEL", "INFO"),
               "--without-gossip", "--without-mingle"]
        out.append((f"worker[{group}]", cmd))
    # The periodic cleanup's clock (it only sends the cleanup task; a worker runs it).
    out.append(("beat", [py, "-m", "celery", "-A", "worker.queue", "beat", "-l", env("LOG_LEVEL", "INFO"),
                         "-s", str(queue.var_dir() / "celerybeat-schedule")]))
    return out


def stop(procs: list[tuple[str, subprocess.Popen]], grace: float = 10.0) -> None:
    for name, p in procs:
        if p.poll() is None:
            # Celery workers: cold shutdown (SIGQUIT) stops a running job at once; its unacked message goes back
            # to the queue (Redis) and runs again on the next start. Others: SIGTERM, their graceful stop.
            p.send_signal(signal.SIGQUIT if name.startswith("worker") else signal.SIGTERM)
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


def wait_healthy(port: str, procs, timeout: float = 120.0) -> bool:
    url = f"http://127.0.0.1:{port}/api/health"
    end = time.time() + timeout
    while time.time() < end and all(p.poll() is None for _, p in procs):
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def main() -> int:
    queue.var_dir().mkdir(parents=True, exist_ok=True)
    procs: list[tuple[str, subprocess.Popen]] = []
    stopping = False

    def on_signal(signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        for name, cmd in commands():
            # Own process group: a terminal's Ctrl-C reaches only us; we stop the children in order.
            procs.append((name, subprocess.Popen(cmd, start_new_session=True)))
        port = env("PORT", "5000")
        mode = "Redis " + queue.redis_url() if queue.redis_url() else f"embedded (no Redis; {queue.var_dir()})"
        if wait_healthy(port, procs):
            print(f"serving on http://localhost:{port}  ({mode}); Ctrl-C stops", flush=True)
        watch = int(env("SERVE_PARENT_PID", "0"))  # tests: stop when the process that started us is gone
        while not stopping:
            if watch and not os.path.exists(f"/proc/{watch}"):
                print("stopping: the parent process is gone", file=sys.stderr, flush=True)
                return 1
            dead = [(n, p.returncode) for n, p in procs if p.poll() is not None]
            if dead:
                print(f"stopping: {dead[0][0]} exited with {dead[0][1]}", file=sys.stderr, flush=True)
                return 1
            time.sleep(0.5)
        return 0
    finally:
        stop(procs)


if __name__ == "__main__":
    sys.exit(main())
