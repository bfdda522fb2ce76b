"""The whole service for real: `python -m worker.serve` (gunicorn + Celery prefork workers + beat) with the real
engines, over real HTTP, on BOTH the embedded default (filesystem broker, SQLite) and Redis.

Started once per backend (module-scoped fixture); images are tiny and step counts low to stay quick on 2 cores.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from PIL import Image

from tests.harness import Serve, children
from tests.service_util import image_bytes, png_header_only

pytestmark = [pytest.mark.integration, pytest.mark.slow]
CONTENT = image_bytes("PNG", size=(80, 60), color=(10, 120, 200))
STYLE = image_bytes("PNG", size=(60, 60), color=(200, 30, 40))


@pytest.fixture(scope="module", params=["embedded", "redis"])
def server(request, tmp_path_factory):
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    if url:
        import redis
        redis.Redis.from_url(url).flushdb()
    s = Serve(tmp_path_factory.mktemp(request.param), url, {"MAX_UPLOAD_MB": "2"}, content=CONTENT)
    try:
        s.wait_ready()
        yield s
    finally:
        s.stop()


def result_image(server, job) -> Image.Image:
    status, headers, body = server.request(job["urls"]["result"])
    assert status == 200 and headers["Content-Type"] == "image/png"
    img = Image.open(io.BytesIO(body))
    assert not img.getexif() and "exif" not in img.info
    return img


def test_health_names_the_backend_and_both_queues(server):
    h = server.get("/api/health")
    assert h["status"] == "ok" and h["broker"]["kind"] == ("redis" if server.redis_url else "filesystem")
    assert h["workers"] == {"count": 2, "queues": ["fast", "slow"]}


def test_fast_preset_and_style_file(server):
    a = server.submit({"engine": "fast", "preset": "3", "size": "64"})
    b = server.submit({"engine": "fast", "size": "64"}, {"content": CONTENT, "style": STYLE})
    for job in (a, b):
        done = server.wait(job["id"])
        assert done["status"] == "succeeded", done
        assert max(result_image(server, done).size) == 64
    status, headers, body = server.request(a["urls"]["result"] + "?format=jpeg")
    assert status == 200 and Image.open(io.BytesIO(body)).format == "JPEG"


def test_gatys_few_steps_reports_progress_and_preview(server):
    job = server.submit({"size": "64", "steps": "5", "seed": "3"}, {"content": CONTENT, "style": STYLE})
    done = server.wait(job["id"])
    assert done["status"] == "succeeded", done
    assert done["progress"]["total"] == 5 and done["params"]["seed"] == 3
    assert max(result_image(server, done).size) == 64
    status, headers, _ = server.request(done["urls"]["preview"])
    assert status == 200 and headers["Content-Type"] == "image/jpeg"


def test_portrait_preset(server):
    status, _, job = server.post("/api/portrait", {"seed": "11", "preset": "2", "size": "64"}, {})
    assert status == 202, job
    done = server.wait(job["id"])
    assert done["status"] == "succeeded" and done["params"]["seed"] == 11, done
    assert server.request(done["urls"]["preview"])[0] == 200  # the raw face came first
    assert max(result_image(server, done).size) == 64


def test_users_exact_curl_then_cancel_frees_the_worker(server, tmp_path):
    """`curl -F content=@a.jpg -F style=@b.jpg URL/api/stylize` as written (a default 512 px Gatys job, too long to
    finish here): it is accepted and starts; cancel stops it within a step, and the slow worker takes the next job."""
    if not shutil.which("curl"):
        pytest.fail("curl is needed for this test (apt-get install curl)")
    (tmp_path / "a.jpg").write_bytes(image_bytes("JPEG", size=(120, 90)))
    (tmp_path / "b.jpg").write_bytes(image_bytes("JPEG", size=(90, 90), color=(220, 20, 20)))
    out = subprocess.run(["curl", "-s", "-F", "content=@a.jpg", "-F", "style=@b.jpg", server.url + "/api/stylize"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    job = json.loads(out.stdout)
    assert job["status"] == "queued" and job["params"]["engine"] == "gatys" and job["params"]["size"] == 512
    server.wait(job["id"], until=("running",), check=lambda j: j["progress"]["step"] >= 1)
    status, _, body = server.request(job["urls"]["cancel"], b"", method="POST")
    assert status == 202
    t0 = time.time()
    done = server.wait(job["id"], timeout=60)
    assert done["status"] == "canceled" and done["error"]["code"] == "canceled"
    assert server.request(job["urls"]["result"])[0] == 409
    nxt = server.submit({"size": "64", "steps": "2"}, {"content": CONTENT, "style": STYLE})
    assert server.wait(nxt["id"])["status"] == "succeeded"
    print(f"cancel took {time.time() - t0:.2f} s to land")


def test_fast_job_not_stuck_behind_gatys(server):
    slow = server.submit({"size": "64", "steps": "400"}, {"content": CONTENT, "style": STYLE})
    server.wait(slow["id"], until=("running",))
    fast = server.submit({"engine": "fast", "preset": "1", "size": "64"})
    assert server.wait(fast["id"], timeout=60)["status"] == "succeeded"
    assert server.get(f"/api/jobs/{slow['id']}")["status"] == "running"
    server.request(slow["urls"]["cancel"], b"", method="POST")
    assert server.wait(slow["id"])["status"] == "canceled"


def test_idempotent_submit_over_http(server):
    h = {"Idempotency-Key": f"retry-{server.backend}"}
    a = server.post("/api/stylize", {"engine": "fast", "preset": "4", "size": "64"}, {"content": CONTENT}, h)
    b = server.post("/api/stylize", {"engine": "fast", "preset": "4", "size": "64"}, {"content": CONTENT}, h)
    assert a[0] == b[0] == 202 and a[2]["id"] == b[2]["id"] and b[1]["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize("fields,files,status", [
    ({}, {"content": png_header_only(40000, 40000), "style": STYLE}, 413),
    ({"engine": "fast", "preset": "1"}, {"content": b"%PDF-1.4 not an image"}, 415),
    ({"engine": "fast", "preset": "1"}, {"content": image_bytes("BMP", size=(1000, 800))}, 413),  # > 2 MB upload
    ({"engine": "fast", "preset": "99"}, {"content": CONTENT}, 422),
], ids=["bomb", "pdf", "upload-size", "preset"])
def test_bad_input_over_http_is_4xx(server, fields, files, status):
    got, _, body = server.post("/api/stylize", fields, files)
    assert got == status and body["error"]["code"], body


# remote inspect needs a broadcast-capable broker; the embedded setup's registry is covered by a unit test
@pytest.mark.parametrize("server", ["redis"], indirect=True)
def test_registered_tasks_match_the_task_names_module(server):
    from celery import Celery
    from worker import queue
    probe = Celery(broker=server.redis_url)
    replies = probe.control.inspect(timeout=5).registered() or {}
    assert len(replies) == 2, replies
    for name, registered in replies.items():
        assert set(registered) == set(queue.TASKS), name


@pytest.mark.parametrize("server", ["redis"], indirect=True)
def test_kill_9_mid_run_is_rerun_and_succeeds(server):
    """With Redis: SIGKILL the pool process running a job; the job is redelivered and finishes, untouched.
    (Redis is the setup that guarantees redelivery; the embedded filesystem broker does not redeliver.)"""
    job = server.submit({"size": "64", "steps": "40", "seed": "5"}, {"content": CONTENT, "style": STYLE})
    server.wait(job["id"], until=("running",), check=lambda j: j["progress"]["step"] >= 3)
    pid = server.record(job["id"])["worker_pid"]
    assert pid in children(server.proc.pid)
    os.kill(pid, signal.SIGKILL)
    done = server.wait(job["id"], timeout=240)
    rec = server.record(job["id"])
    assert done["status"] == "succeeded", done
    assert rec["attempts"] == 2 and rec["worker_pid"] != pid
    assert max(result_image(server, done).size) == 64


def test_zz_ctrl_c_stops_everything_it_started(server):
    kids = children(server.proc.pid)
    assert len(kids) >= 7, kids  # gunicorn master + worker, 2 Celery parents + 2 pool children, beat
    server.proc.send_signal(signal.SIGINT)
    assert server.proc.wait(60) == 0
    assert "did not stop within" not in server.tail(), "a child needed SIGKILL after the grace period"
    time.sleep(0.5)
    alive = [p for p in kids if Path(f"/proc/{p}").exists() and "Z" not in
             (Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0])]
    assert alive == [], alive
