"""worker/settings.py: one pydantic-settings object for every environment variable, and README's table from it."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from tests.service_util import image_bytes
from worker import settings
from worker.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def clean_env(monkeypatch):
    for name in Settings.model_fields:
        monkeypatch.delenv(name, raising=False)


def test_readme_table_is_the_settings_table():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- settings table: python -m worker.settings -->\n(.*?)\n<!-- end settings table -->",
                      readme, re.S)
    assert block, "README lost its generated settings table"
    assert block.group(1) == settings.table(), "README's settings table is stale: paste `python -m worker.settings`"
    for name in Settings.model_fields:
        assert f"| `{name}` |" in block.group(1)


def test_no_other_module_reads_the_environment():
    """One parser: app/ and worker/ read variables only through worker.settings (worker/__init__ sets one)."""
    reads = re.compile(r"os\.environ(\.get|\[)|os\.getenv|environ\.get\(")
    offenders = []
    for path in list((ROOT / "app").rglob("*.py")) + list((ROOT / "worker").rglob("*.py")):
        if path.name == "settings.py" and path.parent.name == "worker":
            continue
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if reads.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{i}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_defaults_blank_values_and_derived_defaults(clean_env, monkeypatch):
    s = settings.get()
    assert s.MODELS_DIR == ROOT / "var" / "models" and s.VAR_DIR == ROOT / "var"
    assert s.media_dir == ROOT / "var" / "media" and s.wheels_dir == s.MODELS_DIR / "wheels"
    assert s.time_limits == (1740, 1800) and s.visibility_timeout == 2400
    monkeypatch.setenv("JOB_TIME_LIMIT", "600")
    monkeypatch.setenv("MAX_SIZE", "  ")  # blank: the default
    monkeypatch.setenv("WARM_MODELS", "0")
    monkeypatch.setenv("MEDIA_DIR", "/tmp/m")
    s = settings.get()
    assert s.time_limits == (540, 600) and s.visibility_timeout == 1200
    assert s.MAX_SIZE == 1024 and s.WARM_MODELS is False and s.media_dir == Path("/tmp/m")
    assert settings.get() is s  # parsed once while the environment stays the same


@pytest.mark.parametrize("name, value", [("JOB_TIME_LIMIT", "soon"), ("MAX_SIZE", "0"), ("PORT", "http"),
                                         ("S3_ADDRESSING_STYLE", "sideways")])
def test_a_bad_value_names_the_variable(clean_env, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name):
        settings.get()


def test_one_models_dir_default_for_api_and_worker(clean_env, tmp_path, monkeypatch):
    from app import create_app
    from worker import models

    monkeypatch.setenv("VAR_DIR", str(tmp_path))  # the app's store and media here, not in ./var
    app = create_app({"RATE_LIMIT": ""})
    assert Path(app.config["MODELS_DIR"]) == models.models_dir() == ROOT / "var" / "models"


def test_create_app_takes_a_settings_object(tmp_path, clean_env):
    from app import create_app

    s = Settings(VAR_DIR=tmp_path, MAX_SIZE=640, QUEUE_CAP=7, RATE_LIMIT="")
    app = create_app({"ENQUEUE": lambda *a: None}, settings=s)
    assert app.config["MAX_SIZE"] == 640 and app.config["QUEUE_CAP"] == 7 and app.config["VAR_DIR"] == str(tmp_path)
    assert app.extensions["settings"] is s
    client = app.test_client()
    r = client.post("/api/stylize", data={"content": (io.BytesIO(image_bytes()), "c.png"), "engine": "fast",
                                          "preset": "1", "size": "800"})
    assert r.status_code == 422 and "640" in r.json["error"]["message"], r.json  # the setting's limit
    assert (tmp_path / "media").is_dir()  # the API's storage lives under this VAR_DIR
    app = create_app({"MAX_SIZE": 300}, settings=s)  # test_config goes over the settings
    assert app.config["MAX_SIZE"] == 300


def test_serve_commands_follow_the_settings(tmp_path):
    from worker import serve

    s = Settings(PORT=5123, HOST="127.0.0.1", WORKER_QUEUES="fast,slow", WEB_CONCURRENCY=3, VAR_DIR=tmp_path)
    cmds = dict(serve.commands(s))
    assert "127.0.0.1:5123" in cmds["api"] and cmds["api"][cmds["api"].index("--workers") + 1] == "3"
    assert [n for n in cmds if n.startswith("worker")] == ["worker[fast,slow]"]
    assert cmds["beat"][-1] == str(tmp_path / "celerybeat-schedule")
