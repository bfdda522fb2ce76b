"""The service's settings: every environment variable the API, the worker, `serve` and the CLI read, in one
pydantic-settings model. Torch-free (the API imports it).

Field names are the environment variables' names. An empty or blank variable counts as unset (its default).
`get()` is the process's Settings; create_app and serve's main take one explicitly (default: `get()`), the rest
of the API, the worker and the CLI read `get()`. README's settings table is `python -m worker.settings` (tests/test_settings.py checks it).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from worker import params

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore")

    # --- where things live -------------------------------------------------------------------------------------
    REDIS_URL: str = Field("", description="Redis for queue, results and job records; empty: the embedded setup "
                                           "(a filesystem queue and SQLite under VAR_DIR), no Redis needed")
    VAR_DIR: Path = Field(ROOT / "var", description="embedded queue, job records, media")
    MEDIA_DIR: Optional[Path] = Field(None, description="uploads, previews and results (default VAR_DIR/media)")
    MODELS_DIR: Path = Field(ROOT / "var" / "models", description="model cache that `models fetch` fills")
    WHEELS_DIR: Optional[Path] = Field(None, description="downloaded model wheels (default MODELS_DIR/wheels)")
    TRAIN_DIR: Path = Field(ROOT / "var" / "train", description="training runs (train-gan, ...)")
    WEB_DIR: Path = Field(ROOT / "mobile" / "dist", description="the web build, served at / when it exists")
    STORAGE: str = Field("local", description="media backend: local | s3 (worker/storage.py BACKENDS)")
    S3_BUCKET: str = Field("", description="STORAGE=s3: the bucket (created beforehand)")
    S3_ENDPOINT_URL: str = Field("", description="STORAGE=s3: a non-AWS server, e.g. http://minio:9000")
    S3_PUBLIC_ENDPOINT_URL: str = Field("", description="the same server as clients reach it, for presigned "
                                                        "result links (default S3_ENDPOINT_URL)")
    S3_REGION: str = Field("", description="e.g. eu-west-1 (empty: boto3's default chain)")
    S3_PREFIX: str = Field("", description="key prefix, so several deployments can share one bucket")
    S3_ADDRESSING_STYLE: str = Field("auto", description="auto | path | virtual (MinIO usually wants path)")

    # --- the API ---------------------------------------------------------------------------------------------
    PORT: int = Field(5000, description="`serve`: the API's port")
    HOST: str = Field("0.0.0.0", description="`serve`: the API's address")
    WEB_CONCURRENCY: int = Field(2, ge=1, description="`serve`: gunicorn worker processes")
    GUNICORN_THREADS: int = Field(8, ge=1, description="`serve`: threads per gunicorn worker")
    ACCESS_LOG: str = Field("-", description="`serve`: gunicorn's access log (- is stdout)")
    API_KEYS: str = Field("", description="comma-separated; then `Authorization: Bearer <key>` (empty: no auth)")
    RATE_LIMIT: str = Field("1200/minute", description="per key or IP, every /api route")
    RATE_LIMIT_SUBMIT: str = Field("30/minute", description="per key or IP, on POST /api/stylize and /api/portrait")
    CORS_ORIGINS: str = Field("", description="comma-separated origins, or *")
    PUBLIC_URL: str = Field("", description="the address phones use (Open in Expo Snack); empty: the LAN address")
    TRUST_PROXY: int = Field(0, ge=0, description="number of proxies in front whose X-Forwarded-* to trust")
    MAX_UPLOAD_MB: int = Field(20, ge=1, description="whole request; more is a 413")
    MAX_FORM_PARTS: int = Field(params.MAX_FORM_PARTS, ge=1, description="multipart parts per request")
    MAX_PIXELS: int = Field(40_000_000, ge=1, description="decoded pixels per image (the decompression-bomb guard)")
    # A deployment may lower the request contract's caps (worker/params.py), never raise them.
    MAX_SIZE: int = Field(params.MAX_SIZE, ge=1, le=params.MAX_SIZE, description="output long side, px")
    MAX_STEPS: int = Field(params.MAX_STEPS, ge=1, le=params.MAX_STEPS, description="Gatys steps per job")
    QUEUE_CAP: int = Field(100, ge=1, description="queued jobs per queue (fast, slow); more is a 429 + Retry-After")
    CLIENT_CAP: int = Field(5, ge=1, description="queued + running jobs per client (API key or IP); more is a 429")
    GATYS_STEP_COST: Optional[float] = Field(None, gt=0, description="seconds per Gatys step per megapixel, to "
                                                                    "refuse jobs that cannot finish in time "
                                                                    "(default: measured by the workers at warm-up)")
    RETRY_AFTER: int = Field(30, ge=1, description="seconds, sent with that 429")
    MIN_FREE_MB: int = Field(500, ge=0, description="/api/health is 503 below this much free disk (MB) for media "
                                                    "and, embedded, the queue and job records")

    # --- jobs and workers ------------------------------------------------------------------------------------
    WORKER_QUEUES: str = Field("fast;slow", description="`serve`: one worker per `;`-separated group of queues")
    LOG_LEVEL: str = Field("INFO", description="`serve`: Celery's log level")
    RESULT_TTL: int = Field(24 * 3600, ge=1, description="seconds; a periodic cleanup deletes older uploads, "
                                                         "results and job records")
    CLEANUP_EVERY: int = Field(600, ge=1, description="seconds between those cleanups")
    JOB_TIME_LIMIT: int = Field(1800, ge=1, description="seconds; the hard limit kills the job's process")
    JOB_SOFT_TIME_LIMIT: Optional[int] = Field(None, ge=1, description="seconds; fails the job with code "
                                                                       "time_limit (default JOB_TIME_LIMIT - 60)")
    VISIBILITY_TIMEOUT: Optional[int] = Field(None, ge=1, description="Redis: seconds before an unacked job goes "
                                                                      "to another worker (default JOB_TIME_LIMIT "
                                                                      "+ 600)")
    MAX_DELIVERIES: int = Field(3, ge=1, description="deliveries of one job (worker deaths) before it fails")
    WARM_MODELS: bool = Field(True, description="load every engine's models when a worker starts (0: on first use)")
    WORKER_SOFT_SHUTDOWN_TIMEOUT: float = Field(0.0, ge=0, description="`worker.container`: seconds a running job "
                                                                       "gets to finish on `docker stop`")
    NO_BF16: bool = Field(False, description="1: no bf16 autocast (debugging precision)")
    SERVE_PARENT_PID: int = Field(0, ge=0, description="`serve` stops when this process is gone (tests)")

    @model_validator(mode="before")
    @classmethod
    def _blank_is_unset(cls, data):
        return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()
                if not (isinstance(v, str) and not v.strip())}

    @field_validator("S3_ADDRESSING_STYLE")
    @classmethod
    def _style(cls, v: str) -> str:
        if v not in ("auto", "path", "virtual"):
            raise ValueError(f"S3_ADDRESSING_STYLE must be one of auto, path, virtual, not {v!r}")
        return v

    # Defaults that follow other settings.
    @property
    def media_dir(self) -> Path:
        return self.MEDIA_DIR or self.VAR_DIR / "media"

    @property
    def wheels_dir(self) -> Path:
        return self.WHEELS_DIR or self.MODELS_DIR / "wheels"

    @property
    def time_limits(self) -> tuple[int, int]:
        """(soft, hard) seconds per job."""
        hard = self.JOB_TIME_LIMIT
        return (self.JOB_SOFT_TIME_LIMIT or max(1, hard - 60)), hard

    @property
    def visibility_timeout(self) -> int:
        # Above the hard limit, or Redis would hand a still-running job to a second worker.
        return self.VISIBILITY_TIMEOUT or self.JOB_TIME_LIMIT + 600

    def flask(self) -> dict:
        """The settings as Flask config: the same names, paths as strings."""
        return {k: str(v) if isinstance(v, Path) else v for k, v in self.model_dump().items()}


_cache: dict[tuple, Settings] = {}


def get() -> Settings:
    """This process's settings, parsed once; parsed again only if one of its variables changed in os.environ
    (tests monkeypatch them)."""
    key = tuple(os.environ.get(name) for name in Settings.model_fields)
    found = _cache.get(key)
    if found is None:  # (a local: another thread may clear the cache meanwhile)
        found = Settings()
        _cache.clear()
        _cache[key] = found
    return found


def table() -> str:
    """README's settings table (markdown)."""
    rows = ["| variable | default | what |", "|---|---|---|"]
    for name, f in Settings.model_fields.items():
        d = f.default
        d = "" if d is None else (f"./{d.relative_to(ROOT)}" if isinstance(d, Path) else str(d))
        what = f.description.replace("|", "\\|")
        rows.append(f"| `{name}` | {f'`{d}`' if d != '' else ''} | {what} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(table())
