"""The Celery app as the worker containers run it: `celery -A worker.container worker ...` (docker-compose.yml).

The same app and config as worker.queue, plus what only matters under a container manager, from env:
WORKER_SOFT_SHUTDOWN_TIMEOUT (seconds, default 0). `docker stop` sends SIGTERM, which the compose file remaps to
Celery's cold shutdown (REMAP_SIGTERM=SIGQUIT); with this set, a running job first gets that long to finish, then
it is cancelled and its message (acked late) goes straight back to the queue for another worker. The container's
stop_grace_period must be longer, or Docker kills the worker before it can requeue.
"""
from __future__ import annotations

from worker import settings
from worker.queue import app  # noqa: F401  (the app `celery -A worker.container` finds)


def soft_shutdown_timeout() -> float:
    return settings.get().WORKER_SOFT_SHUTDOWN_TIMEOUT


app.conf.worker_soft_shutdown_timeout = soft_shutdown_timeout()
