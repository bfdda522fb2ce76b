"""The real stack, for the integration tests, the browser tests and the benches (bench/ imports this; tests never
import bench/).

- `Serve`: `python -m worker.serve` in a child process, exactly what `make serve` runs (gunicorn + one Celery
  worker per queue group + beat), on the embedded setup or on Redis, with its own VAR_DIR and a free port.
- `Stack`: the same parts as separate processes (a private Redis, the API under gunicorn, any number of named
  Celery workers), each in its own session so a test can SIGTERM or SIGKILL a whole worker (main process and pool
  child) as `docker stop` / `docker kill` would.
- Redis for tests (`redis_server`): REDIS_URL if set, else a private redis-server on a free port, else
  127.0.0.1:6379 db 15; with CI=true a missing Redis fails, elsewhere it skips saying why.
- HTTP helpers over urllib (`multipart`, `post_job`, `get_json`) and `children(pid)` from /proc.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Optional

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TERMINAL = ("succeeded", "failed", "canceled")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- Redis ------------------------------------------------------------------------------------------------------

def ping(url: str) -> bool:
    import redis
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def start_private(tmp) -> tuple[str, subprocess.Popen]:
    """A throwaway redis-server on a free port (no persistence): (url, process)."""
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(200):
        if ping(url):
            return url, proc
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("private redis-server did not start")


def unavailable(reason: str):
    import pytest
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"Redis is required in CI: {reason}")
    pytest.skip(f"no Redis: {reason}")


def redis_server(tmp_path_factory):
    """Generator for a fixture: yields a Redis URL this test session may flush."""
    url = os.environ.get("REDIS_URL")
    if url:
        if not ping(url):
            unavailable(f"REDIS_URL={url} does not answer")
        yield url
        return
    if shutil.which("redis-server"):
        url, proc = start_private(tmp_path_factory.mktemp("redis"))
        try:
            yield url
        finally:
            proc.terminate()
            proc.wait(10)
        return
    url = "redis://127.0.0.1:6379/15"
    if not ping(url):
        unavailable("REDIS_URL unset, no redis-server binary, nothing on 127.0.0.1:6379")
    yield url


# --- HTTP -------------------------------------------------------------------------------------------------------

def multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    """(body, content type) of a multipart/form-data POST. files: name -> bytes, (filename, bytes), or a list of
    either (a repeated field, e.g. several styles)."""
    boundary = "----art" + os.urandom(8).hex()
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, blobs in files.items():
        for i, blob in enumerate(blobs if isinstance(blobs, list) else [blobs]):
            fname, data = blob if isinstance(blob, tuple) else (f"{name}{i}.png", blob)
            out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{fname}"\r\n'
                      f'Content-Type: application/octet-stream\r\n\r\n'.encode() + data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def post_job(url: str, fields: dict, files: dict, path: str = "/api/stylize", timeout: float = 30) -> dict:
    body, ctype = multipart(fields, files)
    req = urllib.request.Request(url + path, data=body, method="POST", headers={"Content-Type": ctype})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def get_json(url: str, timeout: float = 30) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())


def children(pid: int) -> set[int]:
    """All live descendants of pid, from /proc."""
    parent = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    out, todo = set(), [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out.update(kids)
        todo.extend(kids)
    return out


class Client:
    """Requests against self.url; never raises on an HTTP error status."""
    url: str
    content: bytes = b""  # the default `content` upload of submit()

    def request(self, path, data=None, headers=None, method=None, timeout=30):
        req = urllib.request.Request(self.url + path, data=data, headers=headers or {}, method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def get(self, path):
        return json.loads(self.request(path)[2])

    def post(self, path, fields: dict, files: dict, headers=None):
        body, ctype = multipart(fields, files)
        status, hdrs, raw = self.request(path, body, {"Content-Type": ctype, **(headers or {})}, "POST")
        return status, hdrs, json.loads(raw)

    def submit(self, fields, files=None, path="/api/stylize"):
        status, _, job = self.post(path, fields, files or {"content": self.content})
        assert status == 202, job
        return job

    def wait(self, jid, until=TERMINAL, timeout=180, check=lambda j: True):
        """Poll the job until its status is in `until` (and check(job) holds); fail if it ends otherwise."""
        end = time.time() + timeout
        job = None
        while time.time() < end:
            job = self.get(f"/api/jobs/{jid}")
            if job["status"] in until and check(job):
                return job
            if job["status"] in TERMINAL:  # ended while we waited for an earlier state
                raise AssertionError(f"job {jid} ended early: {job['status']} {job['error']}")
            time.sleep(0.1)
        raise AssertionError(f"job {jid} stuck at {job}\n" + self.tail())

    def tail(self) -> str:
        return ""


def base_env(tmp: Path, redis_url: Optional[str], env: Optional[dict]) -> dict:
    """A child's environment: ours, minus any REDIS_URL we did not ask for, its own VAR_DIR, no rate limits."""
    out = {**os.environ, "VAR_DIR": str(tmp / "var"), "PYTHONPATH": str(ROOT), "RATE_LIMIT": "",
           "RATE_LIMIT_SUBMIT": "", "PYTHONUNBUFFERED": "1"}
    out.pop("REDIS_URL", None)
    if redis_url:
        out["REDIS_URL"] = redis_url
    out.update(env or {})
    return out


# --- the stack as `make serve` runs it ----------------------------------------------------------------------------

class Serve(Client):
    """`python -m worker.serve` on a free port with VAR_DIR under tmp; embedded without redis_url. It stops when
    this process is gone (SERVE_PARENT_PID), so a killed test run leaves no server behind."""

    def __init__(self, tmp: Path, redis_url: Optional[str] = None, env: Optional[dict] = None,
                 backend: Optional[str] = None, content: bytes = b""):
        self.tmp, self.redis_url, self.content = Path(tmp), redis_url, content
        self.backend = backend or ("redis" if redis_url else "embedded")
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = base_env(self.tmp, redis_url, {
            "PORT": str(self.port), "HOST": "127.0.0.1", "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "8",
            "WORKER_QUEUES": "fast;slow", "ACCESS_LOG": "/dev/null", "SERVE_PARENT_PID": str(os.getpid()),
            **(env or {})})
        self.log = open(self.tmp / "serve.log", "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "worker.serve"], cwd=ROOT, env=self.env,
                                     stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, ready: Callable[[dict], bool] = lambda h: h["workers"]["count"] >= 2,
                   timeout: float = 180) -> dict:
        """Until /api/health satisfies ready (default: both workers up); fail with the log if serve exits."""
        end = time.time() + timeout
        while time.time() < end:
            assert self.proc.poll() is None, "serve exited:\n" + self.tail()
            try:
                h = self.get("/api/health")
                if ready(h):
                    return h
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.3)
        raise AssertionError(f"server not ready in {timeout:g} s\n" + self.tail())

    def tail(self, n: int = 4000) -> str:
        self.log.flush()
        return (self.tmp / "serve.log").read_text(errors="replace")[-n:]

    def record(self, jid):
        """The job's record straight from the store (attempts, worker_pid, ...)."""
        from worker.job_store import RedisStore, SQLiteStore
        if self.redis_url:
            return RedisStore(self.redis_url).get(jid)
        return SQLiteStore(str(self.tmp / "var" / "jobs.sqlite3")).get(jid)

    def stop(self, sig: int = signal.SIGINT, timeout: float = 60) -> None:
        """Ctrl-C (serve stops its gunicorn and workers); SIGKILL only if it does not stop within timeout."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# --- the parts as separate processes ------------------------------------------------------------------------------

class Stack(Client):
    """Redis (redis_url, or a private redis-server), the API under gunicorn and named Celery workers, sharing one
    VAR_DIR under tmp; logs in tmp/<name>.log."""

    def __init__(self, tmp: Path, redis_url: Optional[str] = None, env: Optional[dict] = None):
        self.tmp = Path(tmp)
        (self.tmp / "var").mkdir(parents=True, exist_ok=True)
        self.procs: dict[str, subprocess.Popen] = {}
        if not redis_url:
            if not shutil.which("redis-server"):
                raise RuntimeError("no REDIS_URL and no redis-server binary")
            redis_url, self.procs["redis"] = start_private(self.tmp)
        self.redis_url = redis_url
        self.env = base_env(self.tmp, redis_url, env)
        self.url = None

    def _spawn(self, name: str, cmd: list[str], env: Optional[dict] = None) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "ab")
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**self.env, **(env or {})}, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def tail(self) -> str:
        return "\n".join(f"--- {n}\n{self.log(n)[-1500:]}" for n in self.procs if n != "redis")

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

    def start_worker(self, name: str, queues: str = "fast,slow", env: Optional[dict] = None,
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
