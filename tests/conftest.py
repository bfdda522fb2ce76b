"""Shared fixtures. Model weights come from the cache that `make test` fills (`python -m worker models fetch`)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("MODELS_DIR", str(ROOT / "var" / "models"))


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return Path(os.environ["MODELS_DIR"])
