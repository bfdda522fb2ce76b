"""Issue 12's operator-side hardening: `make test` on a bare machine, and the service's defensive defaults."""
from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

from tests.test_api import client, make, var  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ("chromium", "redis-server", "curl", "docker-compose")


def bare_path(tmp_path: Path, **scripts: str) -> Path:
    """A PATH with `id` and the given fake commands, and none of the tools `make test` needs."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "id").symlink_to("/usr/bin/id")
    for name, body in scripts.items():
        (bin_dir / name).write_text("#!/bin/sh\n" + body)
        (bin_dir / name).chmod(0o755)
    os.chmod(tmp_path, 0o755)
    return bin_dir


def run_make(target: str, bin_dir: Path, tmp_path: Path, as_user: int | None = None) -> subprocess.CompletedProcess:
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path)}
    user = {"user": as_user, "group": as_user, "extra_groups": []} if as_user is not None else {}
    return subprocess.run(["/usr/bin/make", "-s", target, f"CHROMIUM={tmp_path}/no-chromium"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60, **user)


def test_make_test_without_root_stops_at_once_naming_the_command(tmp_path):
    bin_dir = bare_path(tmp_path, **{"apt-get": f"touch {tmp_path}/apt-ran\n"})
    # As a real non-root user: as root (here) drop to nobody, as a user run as is.
    run = run_make("test", bin_dir, tmp_path, as_user=65534 if os.getuid() == 0 else None)
    assert run.returncode != 0
    assert "sudo apt-get install -y " + " ".join(TOOLS) in run.stderr, run.stderr
    assert not (tmp_path / "apt-ran").exists()
    assert "pip" not in run.stdout + run.stderr  # stopped before any setup step


@pytest.mark.skipif(os.getuid() != 0, reason="the apt-get branch runs only as root")
def test_make_test_as_root_installs_what_is_missing_with_apt_get(tmp_path):
    log = tmp_path / "apt.log"
    bin_dir = bare_path(tmp_path, **{"apt-get": f'echo "$*" >> {log}\n'})
    run = run_make("test-deps", bin_dir, tmp_path)
    assert run.returncode == 0, run.stderr
    calls = log.read_text().splitlines()
    assert calls[0].startswith("update") and calls[1].split()[-4:] == list(TOOLS) and "install" in calls[1]


def test_ci_runs_make_test_and_nothing_more():
    lines = [ln for ln in (ROOT / ".ci/run").read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    assert lines[-1] == "exec make test" and "apt-get" not in "\n".join(lines)


def test_make_serve_needs_none_of_the_test_tools():
    run = subprocess.run(["make", "-n", "serve"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and "apt-get" not in run.stdout and "test-deps" not in run.stdout


# --- cold start: a worker warms only its queues' engines; health says when every worker is ready ---------------

@pytest.mark.parametrize("queues, expected", [(["fast"], {"fast", "translate"}), (["slow"], {"gatys", "portrait"}),
                                              (["fast", "slow"], {"fast", "translate", "gatys", "portrait"})])
def test_warm_loads_only_the_engines_of_the_workers_queues(monkeypatch, queues, expected):
    from worker import tasks
    loaded = []

    class Recorder:
        def __init__(self, name):
            self.name = name

        def run(self, *a, **kw):
            loaded.append(self.name)

    monkeypatch.setattr(tasks, "engine", lambda name: loaded.append(name) or Recorder(name))
    tasks.warm(queues)
    assert set(loaded) == expected


def test_worker_child_reports_ready_only_after_its_warm_up(monkeypatch):
    from worker import tasks
    gate = __import__("threading").Event()
    monkeypatch.setattr(tasks, "warm", lambda queues: gate.wait(10))
    monkeypatch.setattr(tasks.settings.get(), "WARM_MODELS", True, raising=False)
    tasks._warm_child()
    assert tasks._ready[0] == 0  # warming
    gate.set()
    end = time.time() + 5
    while tasks._ready[0] == 0 and time.time() < end:
        time.sleep(0.01)
    assert tasks._ready[0] == 1


def test_health_ready_once_every_live_worker_is(client):
    jobs = client.app.extensions["jobs"]
    assert client.get("/api/health").json["ready"] is False  # no worker yet
    jobs.heartbeat("fast@h", {"queues": ["fast"], "ready": True})
    assert client.get("/api/health").json["ready"] is False  # the slow queue's worker has not reported yet
    jobs.heartbeat("slow@h", {"queues": ["slow"], "ready": False})
    h = client.get("/api/health").json
    assert h["status"] == "ok" and h["ready"] is False
    jobs.heartbeat("slow@h", {"queues": ["slow"], "ready": True})
    assert client.get("/api/health").json["ready"] is True


# --- health sees what breaks a submit; backend failures are 503s with a code, never 500s -----------------------

def test_health_sees_a_full_disk(client, monkeypatch):
    from app import health
    assert client.get("/api/health").status_code == 200
    total = health.shutil.disk_usage("/")
    monkeypatch.setattr(health.shutil, "disk_usage", lambda p: total._replace(free=10 * 2**20))
    client.app.extensions.pop("health_probe", None)  # past the probe cache's 2 s
    r = client.get("/api/health")
    assert r.status_code == 503 and r.json["disk"] == {"ok": False, "free_mb": 10, "min_free_mb": 500}


@pytest.fixture
def private_redis(tmp_path):
    from tests.harness import start_private
    url, proc = start_private(tmp_path)
    yield url
    proc.terminate()
    proc.wait(10)


def test_health_sees_a_redis_that_refuses_writes_and_opens_no_connection_per_call(make, private_redis):
    import redis
    client = make(REDIS_URL=private_redis)
    r = redis.Redis.from_url(private_redis)
    assert client.get("/api/health").status_code == 200
    before = r.info("stats")["total_connections_received"]
    for _ in range(20):
        assert client.get("/api/health").status_code == 200
    assert r.info("stats")["total_connections_received"] - before <= 1  # reused, not one per call
    r.config_set("maxmemory", 1)  # noeviction (the default policy): every write refused, PING still answers
    try:
        assert r.ping()
        client.app.extensions.pop("health_probe", None)
        h = client.get("/api/health")
        assert h.status_code == 503 and h.json["job_store"]["ok"] is False and h.json["broker"]["ok"] is False
        # ... and a submit on that Redis is a 503 with a code, not a 500
        from tests.test_api import post
        from tests.service_util import image_bytes
        s = post(client, content=image_bytes(), engine="fast", preset="3")
        assert s.status_code == 503 and s.json["error"]["code"] == "job_store_unavailable", s.json
        assert s.headers["Retry-After"]
    finally:
        r.config_set("maxmemory", 0)


def test_a_dead_redis_on_any_route_is_a_503(make, private_redis):
    client = make(REDIS_URL=private_redis)
    job = client.post("/api/portrait", json={"seed": 1, "preset": 3}).json
    assert client.get(job["urls"]["get"]).status_code == 200
    import redis
    redis.Redis.from_url(private_redis).shutdown(nosave=True)
    for r in (client.get(job["urls"]["get"]), client.get(job["urls"]["result"]),
              client.post(job["urls"]["cancel"]), client.post("/api/portrait", json={"seed": 2, "preset": 3})):
        assert r.status_code == 503 and r.json["error"]["code"] == "job_store_unavailable", (r.status_code, r.json)


def test_a_full_disk_on_submit_is_a_503_storage_full(client, monkeypatch):
    import errno
    from tests.test_api import post
    from tests.service_util import image_bytes

    def full(key, data):
        raise OSError(errno.ENOSPC, "No space left on device", "/srv/secret/media/" + key)
    monkeypatch.setattr(client.app.extensions["media"], "put", full)
    r = post(client, content=image_bytes(), engine="fast", preset="3")
    assert r.status_code == 503 and r.json["error"]["code"] == "storage_full"
    assert "/srv" not in r.get_data(as_text=True)


@pytest.mark.parametrize("raised, code, kept", [
    (KeyError("/work/main/worker/engines/secret.py line 3"), "internal", None),
    (type("ModelsMissing", (RuntimeError,), {})("no /opt/models/vgg19.safetensors: run `python -m worker "
                                                 "models fetch`"), "models_missing", "models fetch"),
    (ValueError("cannot read /var/lib/art/uploads/x.png"), "invalid_params", "cannot read"),
])
def test_job_errors_carry_no_server_paths_or_exception_text(client, raised, code, kept):
    from tests import fake_engine
    from tests.test_api import submit_ok
    from worker import tasks
    job = submit_ok(client)
    fake_engine.RAISE.append(raised)
    tasks.run_job(job["id"])
    err = client.get(job["urls"]["get"]).json["error"]
    assert err["code"] == code
    assert "/work" not in err["message"] and "/opt" not in err["message"] and "/var" not in err["message"]
    assert "KeyError" not in err["message"] and "secret" not in err["message"]
    if kept:
        assert kept in err["message"]


# --- fair queues: a cap per client, a cap per queue, Gatys jobs that cannot finish refused at the door ---------

def fast_job(client, ip="10.0.0.1"):
    from tests.service_util import image_bytes
    from tests.test_api import files
    return client.post("/api/stylize", data=files(content=image_bytes(), engine="fast", preset="3"),
                       content_type="multipart/form-data", environ_base={"REMOTE_ADDR": ip})


def test_one_client_cannot_hold_more_than_its_cap(make):
    from worker import tasks
    client = make(CLIENT_CAP=2, RETRY_AFTER=9)
    first = fast_job(client).json
    assert fast_job(client).status_code == 202
    r = fast_job(client)
    assert r.status_code == 429 and r.json["error"]["code"] == "too_many_jobs" and r.headers["Retry-After"] == "9"
    assert fast_job(client, ip="10.0.0.2").status_code == 202  # everyone else is served
    tasks.stylize(first["id"])  # one finishes: room again
    assert fast_job(client).status_code == 202


def test_each_queue_has_its_own_cap(make):
    from tests.service_util import image_bytes
    from tests.test_api import post
    client = make(QUEUE_CAP=2, CLIENT_CAP=100)
    for _ in range(2):
        assert post(client, content=image_bytes(), style=image_bytes(), steps="5").status_code == 202
    r = post(client, content=image_bytes(), style=image_bytes(), steps="5")
    assert r.status_code == 429 and r.json["error"]["code"] == "queue_full" and "slow" in r.json["error"]["message"]
    assert fast_job(client).status_code == 202  # a full slow queue does not block the fast one


def test_a_gatys_job_that_cannot_finish_in_time_is_refused_at_submit(make, monkeypatch):
    from tests.service_util import image_bytes
    from tests.test_api import post
    monkeypatch.setenv("JOB_TIME_LIMIT", "1800")
    client = make()
    gatys = dict(content=image_bytes(size=(400, 300)), style=image_bytes())
    # unknown cost (no worker has measured one yet): nothing is refused
    assert post(client, **gatys, steps="1000", size="1024").status_code == 202
    # a slow-queue worker measured 10 s per step per megapixel: 1000 steps at 1024x768 is ~2.2 h
    client.app.extensions["jobs"].heartbeat("slow@h", {"queues": ["slow"], "gatys_step_cost": 10.0})
    r = post(client, **gatys, steps="1000", size="1024")
    assert r.status_code == 422 and r.json["error"]["code"] == "too_slow", r.json
    assert r.json["error"]["max_steps"] == int(1740 / (1024 * 768 / 1e6 * 10.0))
    assert "min" in r.json["error"]["message"]
    assert post(client, **gatys, steps="100", size="1024").status_code == 202  # ~13 min: fine
    # a configured cost wins over the measured one
    assert post(make(GATYS_STEP_COST=100.0), **gatys, steps="100", size="1024").status_code == 422


def test_workers_measure_the_gatys_step_cost_without_per_job_overhead():
    from worker import tasks

    class Fake:  # 2 s per job of fixed cost, then 0.5 s per step per megapixel
        clock = 0.0

        def run(self, img, styles, size, steps):
            Fake.clock += 2.0 + steps * 0.5 * size * size / 1e6

    import unittest.mock
    with unittest.mock.patch.object(tasks.time, "perf_counter", lambda: Fake.clock):
        assert tasks.measure_gatys(Fake()) == pytest.approx(0.5)

    class Cached(Fake):  # a first run at the size pays one-off costs (new kernels): not a per-step cost
        sizes: set = set()

        def run(self, img, styles, size, steps):
            Fake.clock += (0 if size in Cached.sizes else 30.0) + steps * 0.5 * size * size / 1e6
            Cached.sizes.add(size)

    with unittest.mock.patch.object(tasks.time, "perf_counter", lambda: Fake.clock):
        assert tasks.measure_gatys(Cached()) == pytest.approx(0.5)

    class Noise(Fake):  # timings that make no sense give no estimate (0: nothing is refused), not a tiny one
        def run(self, img, styles, size, steps):
            Fake.clock += 5.0 / steps

    with unittest.mock.patch.object(tasks.time, "perf_counter", lambda: Fake.clock):
        assert tasks.measure_gatys(Noise()) == 0.0


# --- idempotency keys that tell the truth ------------------------------------------------------------------------

def keyed(client, key="k1", ip="10.0.0.1", preset="3", color=(10, 120, 200)):
    from tests.service_util import image_bytes
    from tests.test_api import files
    return client.post("/api/stylize", data=files(content=image_bytes(color=color), engine="fast", preset=preset),
                       content_type="multipart/form-data", headers={"Idempotency-Key": key},
                       environ_base={"REMOTE_ADDR": ip})


def test_a_failed_submit_does_not_poison_its_key(make):
    client = make()
    broken = [True]

    def enqueue(*a):
        if broken[0]:
            raise ConnectionError("broker down")
        client.sent.append(a)
    client.app.config["ENQUEUE"] = enqueue
    failed = keyed(client)
    assert failed.status_code == 503 and "ConnectionError" not in failed.json["error"]["message"]
    broken[0] = False
    r = keyed(client)  # the retry the 503 asked for
    assert r.status_code == 202 and r.json["status"] == "queued" and "Idempotent-Replayed" not in r.headers
    again = keyed(client)
    assert again.json["id"] == r.json["id"] and again.headers["Idempotent-Replayed"] == "true"


def test_same_key_different_body_is_422_and_keys_are_per_client(client):
    first = keyed(client).json
    same = keyed(client)  # same fields and bytes, a new multipart boundary
    assert same.status_code == 202 and same.json["id"] == first["id"]
    for other in (keyed(client, preset="4"), keyed(client, color=(0, 0, 0))):
        assert other.status_code == 422 and other.json["error"]["code"] == "idempotency_key_reused"
    elsewhere = keyed(client, ip="10.0.0.9")  # another client's "k1" is another key
    assert elsewhere.status_code == 202 and elsewhere.json["id"] != first["id"]


def test_concurrent_duplicates_make_one_job_that_runs(client, monkeypatch):
    import threading
    from worker import tasks
    jobs = client.app.extensions["jobs"]
    create = jobs.create

    def slow_create(rec):  # widen the window between the key's claim and the record the duplicate replays
        time.sleep(0.5)
        create(rec)
    monkeypatch.setattr(jobs, "create", slow_create)
    out = []
    threads = [threading.Thread(target=lambda: out.append(keyed(client, key="dup"))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in out] == [202] * 3
    assert len({r.json["id"] for r in out}) == 1 and len(client.sent) == 1
    assert tasks.run_job(out[0].json["id"]) == "succeeded"


# --- safe defaults: security headers on every response, a CSP the web app works under, no file-existence oracle --

def test_security_headers_on_every_kind_of_response(make, tmp_path):
    web = tmp_path / "dist"
    web.mkdir()
    (web / "index.html").write_text("<html>app</html>")
    client = make(WEB_DIR=str(web))
    job = client.post("/api/portrait", json={"seed": 1, "preset": 3}).json
    for path in ("/api/health", job["urls"]["get"], job["urls"]["result"], "/api/jobs/nope", "/", "/some/route",
                 "/api/docs", "/api/openapi.json"):
        r = client.get(path)
        csp = r.headers.get("Content-Security-Policy", "")
        assert r.headers.get("X-Content-Type-Options") == "nosniff", path
        assert "frame-ancestors 'none'" in csp and r.headers.get("X-Frame-Options") == "DENY", path
        if path.startswith("/api/") and path != "/api/docs":
            assert "default-src 'none'" in csp, path  # JSON and images: nothing runs
    assert "script-src 'self';" in client.get("/").headers["Content-Security-Policy"]  # no inline scripts


def test_result_and_preview_are_served_with_their_real_type(client):
    from tests.test_api import submit_ok
    from worker import tasks
    job = submit_ok(client, engine="fast", preset="3")
    assert tasks.run_job(job["id"]) == "succeeded"
    png = client.get(job["urls"]["result"])
    jpg = client.get(job["urls"]["result"] + "?format=jpeg")
    assert png.mimetype == "image/png" and png.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert jpg.mimetype == "image/jpeg" and jpg.data[:3] == b"\xff\xd8\xff"
    assert png.headers["X-Content-Type-Options"] == "nosniff"


def test_web_catch_all_does_not_tell_which_files_exist_outside_its_folder(make, tmp_path):
    web = tmp_path / "site" / "dist"
    web.mkdir(parents=True)
    (web / "index.html").write_text("<html>shell</html>")
    (web / "app.js").write_text("js")
    (tmp_path / "site" / "secret.txt").write_text("secret")
    client = make(WEB_DIR=str(web))
    outside = client.get("/..%2fsecret.txt")
    nowhere = client.get("/..%2fno-such-file.txt")
    assert (outside.status_code, outside.data) == (nowhere.status_code, nowhere.data) == (200, b"<html>shell</html>")
    assert client.get("/app.js").data == b"js"


CHROMIUM = "/usr/bin/chromium"


def test_the_web_app_works_under_its_csp_in_chromium(tmp_path):
    """The real web build served by the API under gunicorn, in Debian's Chromium: the app renders, loads the
    presets (an API call) and their thumbnails (images), the Swagger UI renders, and no CSP violation fires."""
    from tests.harness import free_port
    dist = ROOT / "mobile" / "dist"
    for what, there, fix in (("the web build", (dist / "index.html").is_file(), "run `make web`"),
                             ("chromium", Path(CHROMIUM).exists(), "apt-get install chromium (`make test` does)")):
        if not there:
            if os.environ.get("CI"):
                pytest.fail(f"{what} is missing: {fix}")
            pytest.skip(f"{what} is missing: {fix}")
    from playwright.sync_api import sync_playwright
    port = free_port()
    env = {**os.environ, "VAR_DIR": str(tmp_path), "WEB_DIR": str(dist), "RATE_LIMIT": "", "REDIS_URL": ""}
    api = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "1", "--threads", "4", "-b",
                            f"127.0.0.1:{port}", "app:create_app()"], cwd=ROOT, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        end = time.time() + 60
        while time.time() < end:
            try:
                urllib.request.urlopen(url + "/api/health", timeout=2)
                break
            except urllib.error.HTTPError:
                break  # answering (503 without workers is fine here)
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu",
                                                                          "--disable-dev-shm-usage"])
            page = browser.new_page()
            page.add_init_script("window.__csp = []; document.addEventListener('securitypolicyviolation', "
                                 "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")
            page.goto(url + "/")
            page.locator('[data-testid="preset-0"]:visible').first.wait_for(timeout=60_000)
            page.wait_for_function("() => [...document.querySelectorAll('[data-testid=\"preset-0\"] img')]"
                                   ".some(i => i.complete && i.naturalWidth > 0)", timeout=30_000)
            app_violations = page.evaluate("window.__csp")
            page.goto(url + "/api/docs")
            page.locator(".swagger-ui .info").wait_for(timeout=30_000)
            docs_violations = page.evaluate("window.__csp")
            browser.close()
        assert app_violations == [] and docs_violations == []
    finally:
        api.terminate()
        api.wait(15)


# --- uploads downscaled once at the door; a CPU allocation failure is out of memory too -------------------------

def stored(client, job) -> Image.Image:
    rec = client.app.extensions["jobs"].get(job["id"])
    return Image.open(io.BytesIO(client.app.extensions["media"].get(rec["inputs"]["content"])))


@pytest.mark.parametrize("fmt, cfg, side", [("JPEG", {}, 1024), ("PNG", {}, 1024), ("JPEG", {"MAX_SIZE": 512}, 512)])
def test_uploads_are_stored_no_larger_than_any_job_can_use(make, fmt, cfg, side):
    from tests.service_util import exif_with_gps_and_rotation, image_bytes
    from tests.test_api import submit_ok
    client = make(**cfg)
    big = image_bytes(fmt, size=(3000, 2000), **({"quality": 90} if fmt == "JPEG" else {}))
    assert stored(client, submit_ok(client, content=big, engine="fast", preset="3")).size == (side, round(side * 2 / 3))
    # EXIF orientation still applies: a sideways photo is stored upright, long side capped
    turned = image_bytes("JPEG", size=(3000, 2000), exif=exif_with_gps_and_rotation())
    assert stored(client, submit_ok(client, content=turned, engine="fast", preset="3")).size == (round(side * 2 / 3), side)
    small = image_bytes(fmt, size=(300, 200))
    assert stored(client, submit_ok(client, content=small, engine="fast", preset="3")).size == (300, 200)


@pytest.mark.parametrize("error", [
    RuntimeError("[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: can't allocate memory: you tried "
                 "to allocate 6442450944 bytes. Error code 12 (Cannot allocate memory)"),
    MemoryError(),
])
def test_a_cpu_allocation_failure_gets_the_smaller_size_retry(client, error):
    from tests import fake_engine
    from tests.test_api import submit_ok
    from worker import tasks
    job = submit_ok(client, size="800", engine="fast", preset="3")
    fake_engine.RAISE.append(error)
    assert tasks.run_job(job["id"]) == "succeeded"
    assert [c["size"] for c in fake_engine.CALLS] == [800, 600]
