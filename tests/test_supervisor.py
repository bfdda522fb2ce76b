"""`python -m worker.serve` (what `make serve` runs) takes its children with it however it dies, and refuses to
start beside a live supervisor on the same VAR_DIR. Real processes: gunicorn, two Celery workers, beat (no model
warm-up, so it starts in seconds)."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.harness import children, free_port

pytestmark = [pytest.mark.integration]
ROOT = Path(__file__).resolve().parent.parent


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def port_free(port: int) -> bool:
    """Nothing listens there, and a new server could bind it (as gunicorn does: SO_REUSEADDR, so the health
    checks' TIME_WAIT connections do not count)."""
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", port)) == 0:
            return False
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def start(tmp_path: Path, port: int, log: str) -> subprocess.Popen:
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "VAR_DIR": str(tmp_path / "var"),
           "WEB_CONCURRENCY": "1", "WORKER_QUEUES": "fast;slow", "WARM_MODELS": "0", "ACCESS_LOG": "/dev/null",
           "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"}
    env.pop("REDIS_URL", None)
    env.pop("SERVE_PARENT_PID", None)  # the watchdog the other tests use: this test is about the kernel's signal
    return subprocess.Popen([sys.executable, "-m", "worker.serve"], cwd=ROOT, env=env,
                            stdout=open(tmp_path / log, "wb"), stderr=subprocess.STDOUT)


def wait_workers(port: int, proc: subprocess.Popen, tmp_path: Path, timeout: float = 120) -> None:
    end = time.time() + timeout
    while time.time() < end:
        assert proc.poll() is None, (tmp_path / "serve.log").read_text()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as r:
                if json.loads(r.read())["workers"]["count"] >= 2:
                    return
        except (OSError, ValueError):
            pass
        time.sleep(0.3)
    raise AssertionError("not up\n" + (tmp_path / "serve.log").read_text()[-3000:])


def test_children_die_with_a_killed_supervisor_and_a_second_one_is_refused(tmp_path):
    port = free_port()
    sup = start(tmp_path, port, "serve.log")
    kids: set[int] = set()
    others: list[subprocess.Popen] = []
    try:
        wait_workers(port, sup, tmp_path)
        end = time.time() + 30
        while "ready: models loaded in every worker" not in (tmp_path / "serve.log").read_text() and time.time() < end:
            time.sleep(0.2)
        assert "ready: models loaded in every worker" in (tmp_path / "serve.log").read_text()
        kids = children(sup.pid)
        assert len(kids) >= 5  # gunicorn master + worker, two Celery workers (+ pool children), beat

        second = start(tmp_path, free_port(), "second.log")
        others.append(second)
        assert second.wait(30) != 0
        said = (tmp_path / "second.log").read_text()
        assert f"pid {sup.pid}" in said and "already running" in said and str(tmp_path / "var") in said, said
        assert sup.poll() is None and all(alive(k) for k in kids)  # the live one is untouched

        sup.send_signal(signal.SIGKILL)  # no chance to stop anything itself
        sup.wait(10)
        end = time.time() + 20
        while time.time() < end and (any(alive(k) for k in kids) or not port_free(port)):
            time.sleep(0.2)
        assert not [k for k in kids if alive(k)], (tmp_path / "serve.log").read_text()[-3000:]
        assert port_free(port)

        third = start(tmp_path, port, "third.log")  # the lock died with its holder
        others.append(third)
        wait_workers(port, third, tmp_path)
        third.send_signal(signal.SIGTERM)
        assert third.wait(30) == 0
    finally:
        for p in others:  # SIGTERM: a supervisor's own orderly stop of its children
            if p.poll() is None:
                p.terminate()
                p.wait(30)
        for k in kids:
            if alive(k):
                os.kill(k, signal.SIGKILL)
        if sup.poll() is None:
            sup.kill()
