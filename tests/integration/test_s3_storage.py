"""worker.storage_s3 against a real S3-compatible HTTP server: moto in server mode, in its own process.

Everything goes over HTTP with SigV4 signing, exactly as against AWS or MinIO: no in-process mock.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import pytest

from tests.harness import free_port
from tests.service_util import image_bytes
from worker import storage
from worker.storage_s3 import S3Storage

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "art-test"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40  # binary, with every byte value


@pytest.fixture(scope="module")
def s3_server():
    moto = Path(sys.executable).parent / "moto_server"
    if not moto.exists():
        pytest.fail("moto_server missing: it comes from requirements-dev.txt (moto[server])")
    port = free_port()
    proc = subprocess.Popen([str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            break
        except (urllib.error.URLError, ConnectionError):
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail(f"moto_server did not start on {url}")
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def s3_env(s3_server, monkeypatch):
    env = {"STORAGE": "s3", "S3_BUCKET": BUCKET, "S3_ENDPOINT_URL": s3_server, "S3_REGION": "us-east-1",
           "S3_ADDRESSING_STYLE": "path", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "S3_PREFIX": "", "S3_PUBLIC_ENDPOINT_URL": ""}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    yield env
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for o in page.get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=o["Key"])
    client.delete_bucket(Bucket=BUCKET)


def test_round_trip_binary(s3_env):
    s = S3Storage()
    s.put("jobs/j1/result.png", PNG)
    assert s.exists("jobs/j1/result.png")
    assert s.get("jobs/j1/result.png") == PNG
    with s.open("jobs/j1/result.png") as body:
        assert body.read(8) == PNG[:8] and body.read() == PNG[8:]
    s.put("jobs/j1/result.png", b"second version")  # overwrite, as previews do
    assert s.get("jobs/j1/result.png") == b"second version"
    s.delete("jobs/j1/result.png")
    assert not s.exists("jobs/j1/result.png")


def test_missing_keys_behave_like_local(s3_env):
    s = S3Storage()
    with pytest.raises(FileNotFoundError):
        s.get("jobs/nope/result.png")
    with pytest.raises(FileNotFoundError):
        s.open("jobs/nope/result.png")
    assert s.exists("jobs/nope/result.png") is False
    s.delete("jobs/nope/result.png")  # missing is fine


def test_bad_keys_rejected_before_any_request(s3_env):
    s = S3Storage()
    for key in ("../etc/passwd", "jobs/../x", "/abs", "a b", ""):
        with pytest.raises(ValueError, match="bad storage key"):
            s.put(key, b"x")


def test_older_than_and_delete_prefix_respect_folders(s3_env):
    s = S3Storage()
    for key in ("uploads/ab/content.png", "uploads/ab/style-0.png", "uploads/abc/content.png",
                "jobs/ab/result.png"):
        s.put(key, b"x")
    now = time.time()
    assert sorted(s.older_than("uploads/ab", now + 60)) == ["uploads/ab/content.png", "uploads/ab/style-0.png"]
    assert s.older_than("uploads/ab", now - 3600) == []  # just written: not older than an hour ago
    assert len(s.older_than("uploads", now + 60)) == 3
    s.delete_prefix("uploads/ab")
    assert not s.exists("uploads/ab/content.png") and not s.exists("uploads/ab/style-0.png")
    assert s.exists("uploads/abc/content.png") and s.exists("jobs/ab/result.png")


def test_delete_prefix_in_batches(s3_env):
    s = S3Storage()
    s.batch = 2  # DeleteObjects takes 1000 keys at most; a small batch exercises the chunking quickly
    for i in range(5):
        s.put(f"jobs/many/{i}.png", b"")
    s.put("jobs/many-not/0.png", b"")
    assert len(s.older_than("jobs/many", time.time() + 60)) == 5
    s.delete_prefix("jobs/many")
    assert s.older_than("jobs/many", time.time() + 60) == []
    assert s.exists("jobs/many-not/0.png")


def test_prefix_isolates_deployments_in_one_bucket(s3_env):
    a, b = S3Storage(prefix="site-a"), S3Storage(prefix="site-b")
    a.put("jobs/j/result.png", b"A")
    b.put("jobs/j/result.png", b"B")
    assert a.get("jobs/j/result.png") == b"A" and b.get("jobs/j/result.png") == b"B"
    assert a.older_than("", time.time() + 60) == ["jobs/j/result.png"]
    a.delete_prefix("jobs")
    assert b.exists("jobs/j/result.png") and not a.exists("jobs/j/result.png")
    raw = boto3.client("s3", endpoint_url=s3_env["S3_ENDPOINT_URL"], region_name="us-east-1")
    assert [o["Key"] for o in raw.list_objects_v2(Bucket=BUCKET)["Contents"]] == ["site-b/jobs/j/result.png"]


def test_presigned_url_serves_the_result_over_plain_http(s3_env):
    s = S3Storage()
    s.put("jobs/j2/result.png", PNG)
    url = s.url("jobs/j2/result.png", expires=60, filename="result.png")
    with urllib.request.urlopen(url, timeout=5) as r:  # no credentials: the signature is the permission
        assert r.read() == PNG
        assert r.headers["Content-Type"] == "image/png"
        assert 'filename="result.png"' in r.headers["Content-Disposition"]
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=60" in url  # (moto serves links without checking them)


def test_public_endpoint_used_only_for_links(s3_env, monkeypatch):
    monkeypatch.setenv("S3_PUBLIC_ENDPOINT_URL", "https://media.example.org")
    s = S3Storage()
    s.put("jobs/j3/result.png", b"x")  # data still goes to the internal endpoint
    assert s.url("jobs/j3/result.png").startswith("https://media.example.org/")


def test_selected_by_env_and_shared_across_processes(s3_env):
    """STORAGE=s3 picks this backend in get_storage(); another process (another machine) sees the same objects."""
    s = storage.get_storage()
    assert isinstance(s, S3Storage)
    s.put("uploads/shared/content.png", PNG)
    code = ("from worker import storage; s = storage.get_storage(); "
            "assert s.get('uploads/shared/content.png')[:8] == b'\\x89PNG\\r\\n\\x1a\\n'; "
            "s.put('jobs/shared/result.png', b'made elsewhere')")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "MEDIA_DIR": "/nonexistent"},
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert s.get("jobs/shared/result.png") == b"made elsewhere"


def test_config_errors_name_the_fix(s3_env, monkeypatch):
    monkeypatch.delenv("S3_BUCKET")
    with pytest.raises(ValueError, match="S3_BUCKET"):
        S3Storage()
    monkeypatch.setenv("S3_BUCKET", BUCKET)
    monkeypatch.setenv("S3_ADDRESSING_STYLE", "sideways")
    with pytest.raises(ValueError, match="auto, path, virtual"):
        S3Storage()


# --- the whole service on S3: API and worker share nothing but Redis and the bucket -----------------------------

def test_service_runs_on_s3_with_no_shared_disk(s3_env, redis_url, tmp_path):
    """API and worker get different VAR_DIRs (as on two machines): the job only works if storage is the bucket."""
    import redis

    from tests.harness import Stack, get_json, post_job

    redis.Redis.from_url(redis_url).flushdb()
    with Stack(tmp_path / "api-host", redis_url, env=s3_env) as api_host, \
            Stack(tmp_path / "gpu-host", redis_url, env=s3_env) as gpu_host:
        api_host.start_api(workers=1, threads=4)
        gpu_host.start_worker("w", queues="fast")
        gpu_host.wait_workers(["w"])
        jid = post_job(api_host.url, {"engine": "fast", "preset": "5", "size": "64"},
                       {"content": ("c.png", PNG_IMAGE)})["id"]
        deadline = time.time() + 180
        while (j := get_json(f"{api_host.url}/api/jobs/{jid}"))["status"] not in ("succeeded", "failed", "canceled"):
            assert time.time() < deadline, gpu_host.log("w")[-3000:]
            time.sleep(0.2)
        assert j["status"] == "succeeded", j
        with urllib.request.urlopen(f"{api_host.url}/api/jobs/{jid}/result", timeout=30) as r:
            served = r.read()
    stored = S3Storage().get(f"jobs/{jid}/result.png")
    assert served == stored and served[:8] == b"\x89PNG\r\n\x1a\n"
    assert S3Storage().exists(f"uploads/{jid}/content.png")
    for host in ("api-host", "gpu-host"):  # nothing landed on either local disk
        media = tmp_path / host / "var" / "media"
        assert not media.exists() or not [p for p in media.rglob("*") if p.is_file()]


PNG_IMAGE = image_bytes("PNG", size=(80, 60), color=(30, 140, 200))
