"""API overhead, side by side: a fast 512 px job through the real service (what `make serve` runs, on Redis)
against the same transfer called in-process; then status-poll latency under 50 concurrent pollers; then RSS.

  .venv/bin/python bench/api_overhead.py [--runs 5] [--pollers 50] [--interval 0.25] [--seconds 8]

Targets: overhead <= 0.3 s (upload, queue, pick-up, storage, polls), poll p99 <= 50 ms, API worker process
<= 150 MB RSS, a worker process with all models loaded <= 1.5 GB RSS.
Redis: REDIS_URL, else a private redis-server on a free port.
"""
from __future__ import annotations

import argparse
import io
import json
import multiprocessing as mp
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.harness import Serve, children, multipart, ping, start_private  # noqa: E402

SAMPLE = ROOT.parent / "shared" / "images" / "chelsea.png"  # the project's shared sample images


def content_bytes() -> bytes:
    from PIL import Image
    if SAMPLE.exists():
        return SAMPLE.read_bytes()
    img = Image.radial_gradient("L").convert("RGB").resize((640, 480))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def in_process(data: bytes, runs: int) -> tuple[list[float], list[float]]:
    """(engine only, decode + engine + PNG encode) seconds per run, after one warm-up."""
    from PIL import Image
    from worker.engines import fast
    img = Image.open(io.BytesIO(data)).convert("RGB")
    fast.run(img, preset=3, size=512)
    engine_only, full = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        img = Image.open(io.BytesIO(data)).convert("RGB")
        t1 = time.perf_counter()
        out = fast.run(img, preset=3, size=512)
        t2 = time.perf_counter()
        out.save(io.BytesIO(), "PNG")
        t3 = time.perf_counter()
        engine_only.append(t2 - t1)
        full.append(t3 - t0)
    return engine_only, full


def through_api(url: str, data: bytes, runs: int, poll: float, record, inside: list) -> tuple[list, list]:
    """End-to-end seconds per job (POST, polls, GET result), polls per job; fills `inside` with job records."""
    host, port = url.split("//")[1].split(":")
    times, polls = [], []
    for i in range(runs + 1):
        conn = HTTPConnection(host, int(port), timeout=60)
        body, ctype = multipart({"engine": "fast", "preset": "3", "size": "512"}, {"content": data})
        t0 = time.perf_counter()
        conn.request("POST", "/api/stylize", body, {"Content-Type": ctype})
        job = json.loads(conn.getresponse().read())
        n = 0
        while True:
            conn.request("GET", job["urls"]["get"])
            state = json.loads(conn.getresponse().read())
            n += 1
            if state["status"] in ("succeeded", "failed", "canceled"):
                break
            time.sleep(poll)
        assert state["status"] == "succeeded", state
        conn.request("GET", job["urls"]["result"])
        png = conn.getresponse().read()
        dt = time.perf_counter() - t0
        conn.close()
        assert png[:4] == b"\x89PNG"
        if i:  # the first run warms caches on both sides
            times.append(dt)
            polls.append(n)
            inside.append(record(job["id"]))
    return times, polls


def poller(args) -> list[float]:
    url, path, seconds, interval, threads = args
    host, port = url.split("//")[1].split(":")
    out: list[float] = []
    lock = threading.Lock()

    def loop():
        conn = HTTPConnection(host, int(port), timeout=30)
        mine = []
        end = time.time() + seconds
        while time.time() < end:
            t0 = time.perf_counter()
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
            mine.append(time.perf_counter() - t0)
            assert r.status == 200, r.status
            time.sleep(interval)
        with lock:
            out.extend(mine)

    ts = [threading.Thread(target=loop) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--pollers", type=int, default=50)
    ap.add_argument("--settle", type=float, default=15, help="seconds to let the workers' model warm-up finish")
    ap.add_argument("--interval", type=float, default=0.25, help="each poller's pause between polls (s)")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--poll", type=float, default=0.02, help="the job client's poll interval (s)")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="api-bench-"))
    redis_proc = None
    url = os.environ.get("REDIS_URL")
    if not url or not ping(url):
        if not shutil.which("redis-server"):
            sys.exit("needs Redis: set REDIS_URL or install redis-server")
        url, redis_proc = start_private(tmp)
    server = Serve(tmp, url, {"RATE_LIMIT": "1000000/minute", "RATE_LIMIT_SUBMIT": "1000000/minute",
                              "LOG_LEVEL": "WARNING", "WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "8"})
    api, port = server.url, server.port
    try:
        server.wait_ready(timeout=180)
        # Each pool process loads every engine's models in a background thread at start (VGG, Gatys and
        # portrait warm-ups included); timing jobs while that runs measures the warm-up, not the service.
        time.sleep(args.settle)
        data = content_bytes()
        print(f"content: {SAMPLE.name if SAMPLE.exists() else 'synthetic'} ({len(data) / 1024:.0f} KiB), "
              f"fast preset 3 at 512 px, {args.runs} runs each (after a warm-up)\n")
        from worker.job_store import RedisStore
        records: list[dict] = []
        api_t, polls = through_api(api, data, args.runs, args.poll, RedisStore(url).get, records)
        wait = [r["started_at"] - r["created_at"] for r in records]
        eng_w = [r["timing"]["engine"] for r in records]
        task_w = [r["timing"]["task"] for r in records]
        eng_t, full_t = in_process(data, args.runs)
        a, e, f = statistics.median(api_t), statistics.median(eng_t), statistics.median(full_t)
        print(f"{'':34}{'median s':>10}")
        print(f"{'in-process fast.run':34}{e:10.3f}")
        print(f"{'in-process decode+run+PNG':34}{f:10.3f}")
        print(f"{'through the API (Redis)':34}{a:10.3f}   ({statistics.median(polls):.0f} polls at "
              f"{args.poll * 1000:.0f} ms)")
        print(f"{'overhead vs fast.run':34}{a - e:10.3f}   target <= 0.300  ratio {a / e:.2f}x")
        print(f"{'overhead vs decode+run+PNG':34}{a - f:10.3f}")
        print(f"{'  of which: submit -> pick-up':34}{statistics.median(wait):10.3f}")
        print(f"{'  engine inside the worker':34}{statistics.median(eng_w):10.3f}   "
              f"(vs {e:.3f} in-process: CPU contention, not the service)")
        print(f"{'  task total inside the worker':34}{statistics.median(task_w):10.3f}")
        print(f"{'overhead net of the engine':34}{a - statistics.median(eng_w):10.3f}   target <= 0.300\n")

        # Poll latency under load: pollers spread over processes so the client's GIL does not skew it.
        conn = HTTPConnection("127.0.0.1", port)
        b, ctype = multipart({"engine": "fast", "preset": "1", "size": "64"}, {"content": data})
        conn.request("POST", "/api/stylize", b, {"Content-Type": ctype})
        path = json.loads(conn.getresponse().read())["urls"]["get"]
        procs = max(1, min(5, args.pollers // 10))
        per = [args.pollers // procs + (1 if i < args.pollers % procs else 0) for i in range(procs)]
        with mp.get_context("fork").Pool(procs) as pool:
            results = pool.map(poller, [(api, path, args.seconds, args.interval, n) for n in per])
        lat = [x for r in results for x in r]
        print(f"status polls: {args.pollers} pollers, {args.interval * 1000:.0f} ms pause, {args.seconds:g} s: "
              f"{len(lat)} requests ({len(lat) / args.seconds:.0f}/s)")
        print(f"  p50 {pct(lat, .5) * 1000:.1f} ms   p99 {pct(lat, .99) * 1000:.1f} ms   "
              f"max {max(lat) * 1000:.1f} ms   target p99 <= 50 ms\n")

        kids = children(server.proc.pid)
        api_workers = [p for p in kids if "gunicorn" in cmdline(p) and "gunicorn" in cmdline(parent_of(p))]
        pool_kids = [p for p in kids if "celery" in cmdline(p) and " worker " in cmdline(p)
                     and "celery" in cmdline(parent_of(p))]
        print("RSS (MB)")
        for p in api_workers:
            print(f"  API worker (gunicorn gthread) pid {p}: {rss_mb(p):7.1f}   target <= 150")
        for p in pool_kids:
            print(f"  Celery pool process, all models warm, pid {p}: {rss_mb(p):7.1f}   target <= 1536")
        return 0
    finally:
        server.stop()
        if redis_proc:
            redis_proc.terminate()
            redis_proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
