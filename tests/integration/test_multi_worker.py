"""Several Celery worker processes against one Redis, jobs submitted over HTTP to the real API (gunicorn).

- one worker per queue: a fast job is not stuck behind a long Gatys job;
- two workers on one queue: jobs are shared between them, and none is run twice to completion;
- a worker stopped with SIGTERM mid-job (as `docker stop` does, with the compose file's REMAP_SIGTERM=SIGQUIT):
  the job is requeued at once and finished by the other worker; with the compose file's soft-shutdown grace
  (worker.container, WORKER_SOFT_SHUTDOWN_TIMEOUT) it is finished by the stopping worker first;
- a worker killed with SIGKILL mid-job (its main process and pool child, as `docker kill` or a lost host): the job
  comes back after the visibility timeout when a worker (re)starts, and is finished, not lost.

"Run to completion" is counted from the workers' own logs (Celery logs `Task ...[id] succeeded` once per finished
run) and from the job record's `attempts` (one per start).
"""
from __future__ import annotations

import re
import signal
import time
import urllib.request
from pathlib import Path

import pytest

from tests.harness import Stack, get_json, post_job
from tests.service_util import image_bytes

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TERMINAL = ("succeeded", "failed", "canceled")
GATYS_STEPS = 80  # a few seconds at 64 px on an idle CPU core: long enough to interrupt mid-run


CONTENT, STYLE = image_bytes("PNG", (80, 60), (10, 120, 200)), image_bytes("PNG", (60, 60), (200, 30, 40))


@pytest.fixture
def stack(redis_url, tmp_path):
    import redis
    redis.Redis.from_url(redis_url).flushdb()
    # Workers get the compose file's shutdown behaviour, SIGTERM -> cancel the running job and requeue it, without
    # the compose file's 60 s soft-shutdown grace (that would let a short job finish instead of being requeued).
    with Stack(tmp_path, redis_url, env={"REMAP_SIGTERM": "SIGQUIT", "WORKER_SOFT_SHUTDOWN_TIMEOUT": "0"}) as s:
        s.start_api(workers=1, threads=4)
        yield s


def submit_fast(stack) -> str:
    return post_job(stack.url, {"engine": "fast", "preset": "3", "size": "64"}, {"content": ("c.png", CONTENT)})["id"]


def submit_gatys(stack, steps: int = GATYS_STEPS) -> str:
    return post_job(stack.url, {"engine": "gatys", "size": "64", "steps": str(steps), "seed": "1"},
                    {"content": ("c.png", CONTENT), "style": ("s.png", STYLE)})["id"]


def job(stack, jid: str) -> dict:
    return get_json(f"{stack.url}/api/jobs/{jid}")


def record(stack, jid: str) -> dict:
    """The stored record (attempts, worker_pid), read straight from Redis."""
    from worker.job_store import RedisStore
    return RedisStore(stack.redis_url).get(jid)


def wait(stack, jids, timeout=240, until=TERMINAL) -> dict:
    deadline, out = time.time() + timeout, {}
    while True:
        out = {j: job(stack, j) for j in jids}
        if all(o["status"] in until for o in out.values()):
            return out
        if time.time() > deadline:
            logs = "\n".join(f"--- {n}\n{stack.log(n)[-2000:]}" for n in stack.procs if n not in ("redis",))
            pytest.fail(f"jobs not {until} in {timeout}s: { {j: o['status'] for j, o in out.items()} }\n{logs}")
        time.sleep(0.2)


def wait_running(stack, jid, timeout=120) -> dict:
    """Until the job is running and has made progress (so a signal lands mid-job, not before it)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        j = job(stack, jid)
        assert j["status"] not in TERMINAL, f"finished before it could be interrupted: {j}"
        if j["status"] == "running" and j["progress"]["step"] >= 1:
            return j
        time.sleep(0.1)
    pytest.fail(f"job {jid} never started running")


def owner(stack, jid: str) -> str:
    """Which worker (by name) runs the job: its record's worker_pid is a pool child of that worker."""
    pid = record(stack, jid)["worker_pid"]
    ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    names = [n for n, p in stack.procs.items() if p.pid == ppid]
    assert names, f"pid {pid} (parent {ppid}) belongs to no worker we started"
    return names[0]


def completions(stack, jid: str) -> dict[str, int]:
    """Finished runs of the job per worker, from the worker logs."""
    pat = re.compile(rf"Task art\.\w+\[{jid}\] succeeded")
    counts = {n: len(pat.findall(stack.log(n))) for n in stack.procs if n not in ("redis", "api")}
    for path in stack.tmp.glob("*.log"):  # workers already stopped are no longer in procs
        if path.stem not in counts and path.stem not in ("redis", "api"):
            counts[path.stem] = len(pat.findall(path.read_text(errors="replace")))
    return {n: c for n, c in counts.items() if c}


def test_one_worker_per_queue(stack):
    stack.start_worker("fastw", queues="fast")
    stack.start_worker("sloww", queues="slow")
    stack.wait_workers(["fastw", "sloww"])
    long_job = submit_gatys(stack, steps=1000)
    wait_running(stack, long_job)
    quick = [submit_fast(stack) for _ in range(3)]
    done = wait(stack, quick)
    assert all(d["status"] == "succeeded" for d in done.values()), done
    assert job(stack, long_job)["status"] == "running", "the fast jobs waited for the long one"
    assert {owner(stack, j) for j in quick} == {"fastw"}  # pool pids checked while the workers live
    assert owner(stack, long_job) == "sloww"
    with urllib.request.urlopen(urllib.request.Request(f"{stack.url}/api/jobs/{long_job}/cancel", method="POST")):
        pass
    assert wait(stack, [long_job])[long_job]["status"] == "canceled"
    for j in quick:
        assert record(stack, j)["attempts"] == 1 and completions(stack, j) == {"fastw": 1}


def test_two_workers_share_a_queue_and_never_double_run(stack):
    stack.start_worker("a", queues="fast,slow")
    stack.start_worker("b", queues="fast,slow")
    stack.wait_workers(["a", "b"])
    jids = [submit_gatys(stack, steps=20) for _ in range(4)]
    done = wait(stack, jids)
    assert all(d["status"] == "succeeded" for d in done.values()), done
    ran_on = {}
    for j in jids:
        runs = completions(stack, j)
        assert sum(runs.values()) == 1, f"job {j} completed {runs}"
        assert record(stack, j)["attempts"] == 1
        ran_on[j] = next(iter(runs))
    assert set(ran_on.values()) == {"a", "b"}, f"one worker took every job: {ran_on}"


def test_sigterm_mid_job_requeues_to_the_other_worker(stack):
    stack.start_worker("a", queues="slow")
    stack.start_worker("b", queues="slow")
    stack.wait_workers(["a", "b"])
    jid = submit_gatys(stack)
    wait_running(stack, jid)
    victim = owner(stack, jid)
    other = "b" if victim == "a" else "a"
    t0 = time.time()
    stack.signal(victim, signal.SIGTERM)
    stack.procs[victim].wait(30)
    assert time.time() - t0 < 20, "SIGTERM did not stop the worker promptly"
    end = wait(stack, [jid])[jid]
    assert end["status"] == "succeeded", end
    assert record(stack, jid)["attempts"] == 2  # interrupted once, then run again
    assert completions(stack, jid) == {other: 1}
    assert "cancel" in stack.log(victim).lower() or "shutdown" in stack.log(victim).lower()


def test_sigkill_mid_job_is_recovered_not_lost(stack):
    stack.start_worker("a", queues="slow")
    stack.start_worker("b", queues="slow")
    stack.wait_workers(["a", "b"])
    jid = submit_gatys(stack)
    wait_running(stack, jid)
    victim = owner(stack, jid)
    stack.signal(victim, signal.SIGKILL)  # no goodbye: the message stays unacked in Redis
    stack.procs[victim].wait(10)
    time.sleep(1.0)
    assert job(stack, jid)["status"] == "running"  # nobody finished it
    # The replacement worker (compose's `restart: unless-stopped`) restores unacked messages older than the
    # visibility timeout when it starts; 3 s here, JOB_TIME_LIMIT + 600 s by default.
    time.sleep(3.5)
    stack.start_worker(f"{victim}2", queues="slow", env={"VISIBILITY_TIMEOUT": "3"})
    end = wait(stack, [jid])[jid]
    assert end["status"] == "succeeded", end
    assert record(stack, jid)["attempts"] == 2
    assert sum(completions(stack, jid).values()) == 1 and victim not in completions(stack, jid)


def test_sigterm_with_soft_shutdown_grace_lets_the_job_finish(stack):
    """The compose setting: WORKER_SOFT_SHUTDOWN_TIMEOUT gives a running job time to finish before the requeue."""
    # Celery waits out the whole grace whenever a job is running (even one that ends sooner), so keep it short.
    stack.start_worker("a", queues="slow", app="worker.container", env={"WORKER_SOFT_SHUTDOWN_TIMEOUT": "45"})
    stack.wait_workers(["a"])
    jid = submit_gatys(stack, steps=20)
    wait_running(stack, jid)
    stack.signal("a", signal.SIGTERM)
    stack.procs["a"].wait(90)
    end = job(stack, jid)
    assert end["status"] == "succeeded", end
    assert record(stack, jid)["attempts"] == 1 and completions(stack, jid) == {"a": 1}
    assert "Soft Shutdown" in stack.log("a")
