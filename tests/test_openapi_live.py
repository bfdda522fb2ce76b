"""Schemathesis (checks: all) against the live server as `make serve` runs it: `python -m worker.serve`, gunicorn
and a Celery worker, over real HTTP. tests/test_openapi.py runs the same cases in-process; this catches what only
the served stack does (gunicorn's own answers, headers added outside Flask, the real job store and queue).

The server reads the same models folder as the in-process app, so both publish the same document. That folder has
no engine weights, so a job the worker picks up fails at once (models_missing) instead of painting: the fuzzer's
thousand-step jobs never hold the CPU, and what is checked is the HTTP contract.
"""
from __future__ import annotations

import re
import uuid

import pytest
import schemathesis

from tests.harness import Serve
from tests.test_openapi import API, CONFIG, VAR
from app import docs

# the in-process app's document, which the live server (same settings and models folder) must serve too
SPEC = API.test_client().get("/api/openapi.json").json
schema = schemathesis.openapi.from_dict(SPEC, config=CONFIG)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    server = Serve(tmp_path_factory.mktemp("openapi-live"), env={
        "MODELS_DIR": str(VAR / "models"), "WORKER_QUEUES": "fast", "WARM_MODELS": "0", "API_KEYS": "",
        "CORS_ORIGINS": "", "RATE_LIMIT": "", "RATE_LIMIT_SUBMIT": "", "QUEUE_CAP": "1000000000",
        "CLIENT_CAP": "1000000000"})
    try:
        server.wait_ready(lambda h: h["workers"]["count"] >= 1)
        assert server.get("/api/openapi.json") == SPEC, "the live server publishes another document"
        yield server
    finally:
        server.stop()


@schema.parametrize()
def test_schemathesis_finds_no_mismatch_on_the_live_server(case, live):
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and re.fullmatch(docs.IDEM_KEY, key):
        case.headers["Idempotency-Key"] = uuid.uuid4().hex  # as in tests/test_openapi.py: one key, one request
    case.call_and_validate(base_url=live.url)
