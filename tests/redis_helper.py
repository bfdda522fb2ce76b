"""Finding a Redis for tests: REDIS_URL if set, else a private redis-server on a free port (if the binary
exists), else 127.0.0.1:6379 db 15. With CI=true a missing Redis is a failure; elsewhere a skip with the reason."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ping(url: str) -> bool:
    import redis
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def start_private(tmp) -> tuple[str, subprocess.Popen]:
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(100):
        if ping(url):
            return url, proc
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("private redis-server did not start")


def unavailable(reason: str):
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
