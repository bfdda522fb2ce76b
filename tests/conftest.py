"""Shared fixtures. Model weights come from the cache that `make test` fills (`python -m worker models fetch`)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("MODELS_DIR", str(ROOT / "var" / "models"))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as worker/__init__.py does; before any test imports torch


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return Path(os.environ["MODELS_DIR"])


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A Redis the tests may flush (tests/harness.py: REDIS_URL, else a private redis-server)."""
    from tests.harness import redis_server
    yield from redis_server(tmp_path_factory)
