"""Shared fixtures. Model weights come from the cache that `make test` fills (`python -m worker models fetch`)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as worker/__init__.py does; before any test imports torch


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """The real model cache (MODELS_DIR, default ./var/models: worker/settings.py)."""
    from worker import settings
    return settings.get().MODELS_DIR


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A Redis the tests may flush (tests/harness.py: REDIS_URL, else a private redis-server)."""
    from tests.harness import redis_server
    yield from redis_server(tmp_path_factory)


@pytest.fixture(scope="session")
def served(tmp_path_factory):
    """The real stack as `make serve` runs it (tests/harness.py Serve: gunicorn + both workers, the embedded
    setup, its own VAR_DIR and port), shared by the tests that only talk HTTP to it (e.g. an OpenAPI fuzzer)."""
    from tests.harness import Serve
    server = Serve(tmp_path_factory.mktemp("served"))
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
