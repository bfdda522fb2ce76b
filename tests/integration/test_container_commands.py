"""The containers' commands, run for real without Docker (no engine here): exactly the CMD, ENTRYPOINT, HEALTHCHECK
and compose `command`/`healthcheck` strings, taken from the Dockerfile (BuildKit's parser) and from
`docker-compose config` (variables resolved), run as processes on this machine against a real Redis.

What this proves: the gunicorn arguments and app factory string start the API; the worker entrypoint verifies
the model cache and execs the compose worker command; both healthchecks pass against live processes and fail
when the API is gone or the ping names another worker; beat starts where torch cannot be imported (as in the
api image) and schedules the cleanup task. What it cannot prove: the images build (base images, wheel indexes, CUDA).
"""
from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.harness import Stack, free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def compose() -> dict:
    from tests.test_deploy import compose_bin

    out = subprocess.run([compose_bin(), "config"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env={**os.environ, "COMPOSE_PROJECT_NAME": "check"})
    assert out.returncode == 0, out.stderr
    return yaml.safe_load(out.stdout)["services"]


def stage(name: str) -> dict:
    """The Dockerfile stage's ENV (dict), CMD, ENTRYPOINT and HEALTHCHECK command (lists)."""
    import dockerfile

    out, current = {"ENV": {}}, None
    for c in dockerfile.parse_file(str(ROOT / "Dockerfile")):
        if c.cmd == "FROM":
            current = c.value[-1]
        elif current == name and c.cmd == "ENV":
            # Docker removes the quotes around an ENV value; the parser keeps them.
            out["ENV"].update({k: " ".join(shlex.split(v)) for k, v in zip(c.value[::2], c.value[1::2])})
        elif current == name and c.cmd in ("CMD", "ENTRYPOINT"):
            out[c.cmd] = list(c.value)
        elif current == name and c.cmd == "HEALTHCHECK":
            assert c.value[0] == "CMD"
            out["HEALTHCHECK"] = list(c.value[1:])
    return out


def check(cmd: list[str], env: dict, shell_form: bool = False) -> int:
    """Run a healthcheck as Docker would: exec form, or CMD-SHELL through /bin/sh -c."""
    argv = ["/bin/sh", "-c", cmd[0]] if shell_form else cmd
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, timeout=60).returncode


def proc_env(stack: Stack, extra: dict) -> dict:
    return {**stack.env, "PATH": f"{BIN}:{os.environ['PATH']}", "HOSTNAME": socket.gethostname(), **extra}


def wait_for(pred, timeout: float, what: str, log=lambda: ""):
    deadline = time.time() + timeout
    while not pred():
        if time.time() > deadline:
            pytest.fail(f"{what} within {timeout}s\n{log()[-3000:]}")
        time.sleep(0.3)


def test_api_image_command_and_healthchecks(redis_url, tmp_path, compose):
    api = stage("api")
    assert api["CMD"][:2] == ["sh", "-c"]
    port = free_port()
    with Stack(tmp_path, redis_url) as stack:
        env = proc_env(stack, {**api["ENV"], "PORT": str(port), "WEB_DIR": str(tmp_path / "no-web")})
        env["GUNICORN_CMD_ARGS"] += " --workers 1"  # later flags win; one process is enough here
        # Exactly the image's CMD, only the bind address differs (0.0.0.0 in the image).
        cmd = [api["CMD"][0], api["CMD"][1], api["CMD"][2].replace("0.0.0.0", "127.0.0.1")]
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=open(tmp_path / "gunicorn.log", "wb"),
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for(lambda: check(api["HEALTHCHECK"], env) == 0, 60, "the Dockerfile api HEALTHCHECK passing",
                     lambda: (tmp_path / "gunicorn.log").read_text())
            compose_check = [a.replace("127.0.0.1:5000", f"127.0.0.1:{port}") for a in compose["api"]["healthcheck"]["test"]]
            assert compose_check[0] == "CMD" and check(compose_check[1:], env) == 0
            started = (tmp_path / "gunicorn.log").read_text()
            assert "Using worker: gthread" in started  # GUNICORN_CMD_ARGS from the image's ENV took effect
            assert "control socket" not in started.lower()  # no ~/.gunicorn to write as the app user
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(20)
        assert check(api["HEALTHCHECK"], env) != 0  # and it notices when the API is gone


def test_worker_entrypoint_command_and_healthchecks(redis_url, tmp_path, compose):
    worker = stage("worker")
    spec = compose["worker"]
    with Stack(tmp_path, redis_url) as stack:
        env = proc_env(stack, {k: str(v) for k, v in spec["environment"].items()
                               if k not in ("REDIS_URL", "VAR_DIR")})
        env.update(OMP_NUM_THREADS="1", WORKER_SOFT_SHUTDOWN_TIMEOUT="0")
        entry = ROOT / "docker" / "worker-entrypoint.sh"
        assert worker["ENTRYPOINT"] == ["worker-entrypoint"]
        # The image's ENTRYPOINT with compose's command (the default node name, celery@HOSTNAME, as in a container).
        proc = subprocess.Popen(["sh", str(entry), *spec["command"]], cwd=ROOT, env=env,
                                stdout=open(tmp_path / "worker.log", "wb"), stderr=subprocess.STDOUT,
                                start_new_session=True)
        log = lambda: (tmp_path / "worker.log").read_text(errors="replace")  # noqa: E731
        image_check = worker["HEALTHCHECK"][2:]  # ["sh", "-c", "<script>"] -> the script
        compose_check = [spec["healthcheck"]["test"][1].replace("$$", "$")]
        assert spec["healthcheck"]["test"][0] == "CMD-SHELL"
        try:
            # Ready first (each failed ping waits out its 10 s timeout), then the checks exactly as Docker runs them.
            wait_for(lambda: " ready." in log(), 120, "the worker starting", log)
            assert check(compose_check, env, shell_form=True) == 0
            assert check(image_check, env, shell_form=True) == 0
            # A live worker under another node name does not make this container look healthy.
            assert check(compose_check, {**env, "HOSTNAME": "some-other-container"}, shell_form=True) != 0
            assert "all models present and intact" in log()  # `models verify` ran before Celery
            assert ".> fast" in log() and ".> slow" in log() and "concurrency: 1 (prefork)" in log()
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)


def test_beat_runs_from_a_torch_free_environment(redis_url, tmp_path, compose):
    import redis

    spec = compose["beat"]
    assert spec["build"]["target"] == "api"
    r = redis.Redis.from_url(redis_url)
    r.flushdb()
    with Stack(tmp_path, redis_url) as stack:
        env = proc_env(stack, {"CLEANUP_EVERY": "1"})
        # As in the api image: torch is not importable. Then exactly compose's command.
        (tmp_path / "site").mkdir()
        (tmp_path / "site" / "sitecustomize.py").write_text("import sys\nsys.modules['torch'] = None\n")
        env["PYTHONPATH"] = f"{tmp_path / 'site'}:{env['PYTHONPATH']}"
        argv = [str(BIN / spec["command"][0]), *spec["command"][1:]]
        argv[argv.index("-s") + 1] = str(tmp_path / "celerybeat-schedule")
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=open(tmp_path / "beat.log", "wb"),
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for(lambda: r.llen("fast") > 0, 60, "beat queueing the cleanup task",
                     lambda: (tmp_path / "beat.log").read_text(errors="replace"))
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(20)
        assert b"art.cleanup" in r.lindex("fast", 0)
        assert "ModuleNotFoundError" not in (tmp_path / "beat.log").read_text(errors="replace")
