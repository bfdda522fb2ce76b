"""A real service stack in child processes, for bench/load.py and the multi-worker integration tests.

Redis (REDIS_URL, or a private redis-server on a free port), the API under gunicorn on a free port, and any number
of Celery worker processes, all sharing one VAR_DIR. Every process gets its own session so a test can SIGTERM or
SIGKILL a whole worker (main process and pool child) as `docker stop` / `docker kill` would.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent

from tests.redis_helper import free_port, ping as redis_ping  # noqa: E402


class Stack:
    def __init__(self, tmp: Path, redis_url: str | None = None, env: dict | None = None):
        self.tmp = Path(tmp)
        (self.tmp / "var").mkdir(parents=True, exist_ok=True)
        self.procs: dict[str, subprocess.Popen] = {}
        self.redis_url = redis_url or self._private_redis()
        self.env = {**os.environ, "REDIS_URL": self.redis_url, "VAR_DIR": str(self.tmp / "var"),
                    "PYTHONPATH": str(ROOT), "RATE_LIMIT": "", "RATE_LIMIT_SUBMIT": "",
                    "MODELS_DIR": os.environ.get("MODELS_DIR", str(ROOT / "var" / "models")), **(env or {})}
        self.url = None

    def _private_redis(self) -> str:
        if not shutil.which("redis-server"):
            raise RuntimeError("no REDIS_URL and no redis-server binary")
        port = free_port()
        self.procs["redis"] = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.tmp)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"redis://127.0.0.1:{port}/0"
        deadline = time.time() + 10
        while not redis_ping(url):
            if time.time() > deadline:
                raise RuntimeError("private redis-server did not start")
            time.sleep(0.05)
        return url

    def _spawn(self, name: str, cmd: list[str], env: dict | None = None) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "ab")
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**self.env, **(env or {})}, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start_api(self, workers: int = 2, threads: int = 8, timeout: float = 60) -> str:
        port = free_port()
        self._spawn("api", [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--worker-class", "gthread",
                            "--workers", str(workers), "--threads", str(threads), "app:create_app()"])
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.time() + timeout
        while True:
            try:
                with urllib.request.urlopen(self.url + "/api/health", timeout=2) as r:
                    if r.status == 200:
                        return self.url
            except OSError:
                pass
            if time.time() > deadline or self.procs["api"].poll() is not None:
                raise RuntimeError("the API did not answer /api/health:\n" + self.log("api")[-3000:])
            time.sleep(0.2)

    def start_worker(self, name: str, queues: str = "fast,slow", env: dict | None = None,
                     app: str = "worker.queue") -> subprocess.Popen:
        """One Celery worker (-c 1, prefork) named name@host, consuming the given queues.

        Several CPU workers share a few cores here, so each gets one torch thread (OMP_NUM_THREADS=1):
        with more, OpenMP threads spin against each other and a job runs ten times slower.
        """
        env = {"OMP_NUM_THREADS": "1", **(env or {})}
        return self._spawn(name, [sys.executable, "-m", "celery", "-A", app, "worker", "-c", "1",
                                  "-Q", queues, "-n", f"{name}@%h", "-l", "INFO", "--without-mingle",
                                  "--without-gossip"], env)

    def live_workers(self) -> set[str]:
        from worker.job_store import RedisStore
        return {w["name"].split("@")[0] for w in RedisStore(self.redis_url).workers(max_age=15)}

    def wait_workers(self, names, timeout: float = 120) -> None:
        deadline = time.time() + timeout
        while not set(names) <= self.live_workers():
            for n in names:
                if self.procs[n].poll() is not None:
                    raise RuntimeError(f"worker {n} exited:\n" + self.log(n)[-3000:])
            if time.time() > deadline:
                raise RuntimeError(f"workers {names} not ready; logs:\n" + "\n".join(self.log(n)[-1500:]
                                                                                 for n in names))
            time.sleep(0.2)

    def signal(self, name: str, sig: int) -> None:
        """To the whole process group: the worker's main process and its pool child, as a container gets it."""
        os.killpg(self.procs[name].pid, sig)

    def stop(self, name: str, timeout: float = 20) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM) if name != "redis" else proc.terminate()
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL) if name != "redis" else proc.kill()
            proc.wait(5)
        except ProcessLookupError:
            pass

    def close(self) -> None:
        for name in [n for n in self.procs if n != "redis"] + (["redis"] if "redis" in self.procs else []):
            self.stop(name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    """(body, content type) for a multipart/form-data POST; files: name -> (filename, bytes)."""
    boundary = "----art" + os.urandom(8).hex()
    out = []
    for k, v in fields.items():
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    for k, (fname, data) in files.items():
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{fname}"\r\n'
                   f'Content-Type: application/octet-stream\r\n\r\n'.encode() + data + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


def post_job(url: str, fields: dict, files: dict, path: str = "/api/stylize", timeout: float = 30) -> dict:
    body, ctype = multipart(fields, files)
    req = urllib.request.Request(url + path, data=body, method="POST", headers={"Content-Type": ctype})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def get_json(url: str, timeout: float = 30) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())
