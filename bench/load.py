"""Load: N concurrent clients submit fast jobs and poll them through the real server.

The stack is real and local: Redis (REDIS_URL, or a private redis-server), the API under gunicorn (2 processes x 8
threads, as in the api image), and WORKERS Celery worker processes (-c 1 each) on the fast queue. Each client
submits a job (multipart POST /api/stylize, engine=fast, a preset), polls GET /api/jobs/<id> every POLL seconds
until it ends, fetches the result, and repeats JOBS times. Reported: jobs/minute (succeeded jobs over the wall time
of the measured phase), submit and poll latency p50/p99, and jobs lost (anything that did not end `succeeded` with a
fetchable result, including timeouts): must be 0.

    .venv/bin/python bench/load.py --clients 10
    .venv/bin/python bench/load.py --clients 50 --json
    .venv/bin/python bench/load.py --clients 10 --url http://gpu-box:5000   # an existing deployment
"""
from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.harness import Stack, get_json, post_job  # noqa: E402


def content_png(size=(256, 192)) -> bytes:
    from PIL import Image

    img = Image.linear_gradient("L").resize(size).convert("RGB")
    img.paste((220, 180, 40), (0, 0, size[0] // 3, size[1] // 2))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * len(s) + 0.5) - 1))]


class Client(threading.Thread):
    def __init__(self, url: str, jobs: int, size: int, poll: float, timeout: float, content: bytes, n: int):
        super().__init__(daemon=True)
        self.url, self.jobs, self.size, self.poll, self.timeout, self.content = url, jobs, size, poll, timeout, content
        self.preset = n % 26
        self.submits: list[float] = []
        self.polls: list[float] = []
        self.outcomes: list[str] = []

    def one(self) -> str:
        t = time.perf_counter()
        try:
            job = post_job(self.url, {"engine": "fast", "preset": str(self.preset), "size": str(self.size)},
                           {"content": ("c.png", self.content)})
        except (urllib.error.URLError, OSError) as e:
            return f"submit_error:{getattr(e, 'code', type(e).__name__)}"
        self.submits.append(time.perf_counter() - t)
        deadline = time.time() + self.timeout
        while time.time() < deadline:
            time.sleep(self.poll)
            t = time.perf_counter()
            try:
                job = get_json(f"{self.url}/api/jobs/{job['id']}")
            except (urllib.error.URLError, OSError):
                continue  # a failed poll is retried; only the job's fate counts
            finally:
                self.polls.append(time.perf_counter() - t)
            if job["status"] in ("succeeded", "failed", "canceled"):
                break
        else:
            return "timeout"
        if job["status"] != "succeeded":
            return f"{job['status']}:{(job.get('error') or {}).get('code')}"
        with urllib.request.urlopen(f"{self.url}/api/jobs/{job['id']}/result", timeout=30) as r:
            return "ok" if r.status == 200 and r.read(8) == b"\x89PNG\r\n\x1a\n" else "bad_result"

    def run(self):
        for _ in range(self.jobs):
            self.outcomes.append(self.one())


def measure(url: str, clients: int, jobs: int, size: int, poll: float, timeout: float) -> dict:
    content = content_png()
    load_before = round(os.getloadavg()[0], 1)
    # Warm-up (not counted): one job per worker so every pool process has its models in memory.
    warm = [Client(url, 1, size, poll, timeout, content, i) for i in range(2)]
    [c.start() for c in warm]
    [c.join() for c in warm]
    crowd = [Client(url, jobs, size, poll, timeout, content, i) for i in range(clients)]
    t0 = time.perf_counter()
    [c.start() for c in crowd]
    [c.join() for c in crowd]
    wall = time.perf_counter() - t0
    outcomes = [o for c in crowd for o in c.outcomes]
    submits = [s for c in crowd for s in c.submits]
    polls = [p for c in crowd for p in c.polls]
    ok = outcomes.count("ok")
    bad = {o: outcomes.count(o) for o in set(outcomes) if o != "ok"}
    return {"clients": clients, "jobs": len(outcomes), "succeeded": ok, "lost": len(outcomes) - ok,
            "lost_by_reason": bad, "wall_s": round(wall, 1), "jobs_per_minute": round(ok / wall * 60, 1),
            "submit_ms": {"p50": round(pct(submits, 50) * 1e3, 1), "p99": round(pct(submits, 99) * 1e3, 1)},
            "poll_ms": {"p50": round(pct(polls, 50) * 1e3, 1), "p99": round(pct(polls, 99) * 1e3, 1),
                        "count": len(polls), "mean": round(statistics.fmean(polls) * 1e3, 1) if polls else None},
            "size": size, "poll_interval_s": poll,
            "machine": {"cpus": os.cpu_count(), "loadavg_1m_before": load_before,
                        "loadavg_1m_after": round(os.getloadavg()[0], 1)}}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=10)
    p.add_argument("--jobs", type=int, default=3, help="jobs per client")
    p.add_argument("--size", type=int, default=128, help="output long side of each fast job")
    p.add_argument("--poll", type=float, default=0.25, help="seconds between a client's polls")
    p.add_argument("--timeout", type=float, default=600, help="seconds a job may take before it counts as lost")
    p.add_argument("--workers", type=int, default=2, help="Celery worker processes (local stack only)")
    p.add_argument("--url", help="an existing deployment instead of a local stack")
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    if a.url:
        result = measure(a.url.rstrip("/"), a.clients, a.jobs, a.size, a.poll, a.timeout)
    else:
        with tempfile.TemporaryDirectory(prefix="load-") as tmp, \
                Stack(Path(tmp), env={"QUEUE_CAP": "100000", "CLIENT_CAP": "100000"}) as stack:
            stack.start_api(workers=2, threads=8)
            names = [f"w{i}" for i in range(a.workers)]
            for n in names:
                stack.start_worker(n, queues="fast")
            stack.wait_workers(names)
            result = measure(stack.url, a.clients, a.jobs, a.size, a.poll, a.timeout)
            result["workers"] = a.workers
    if a.json:
        print(json.dumps(result))
    else:
        print(f"clients {result['clients']}  jobs {result['jobs']}  succeeded {result['succeeded']}  "
              f"lost {result['lost']} {result['lost_by_reason'] or ''}")
        print(f"throughput {result['jobs_per_minute']} jobs/min over {result['wall_s']} s")
        print(f"submit latency p50 {result['submit_ms']['p50']} ms  p99 {result['submit_ms']['p99']} ms")
        m = result["machine"]
        print(f"machine: {m['cpus']} CPUs, load average {m['loadavg_1m_before']} before, "
              f"{m['loadavg_1m_after']} after")
        print(f"poll latency   p50 {result['poll_ms']['p50']} ms  p99 {result['poll_ms']['p99']} ms  "
              f"({result['poll_ms']['count']} polls)")
    return 0 if result["lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
