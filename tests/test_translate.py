"""The translate engine: model discovery in MODELS_DIR/translate, safe loading, sizes, errors, caching."""
from __future__ import annotations

import pickle

import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from tests.shapes import single_thread  # noqa: F401 (autouse fixture)
from worker import generators
from worker.__main__ import main as cli
from worker.core.cyclegan import ResnetGenerator
from worker.engines import translate


@pytest.fixture
def root(tmp_path):
    torch.manual_seed(0)
    (tmp_path / "translate").mkdir()
    save_file(ResnetGenerator(ngf=4, n_blocks=1).state_dict(), str(tmp_path / "translate" / "tiny.safetensors"))
    return tmp_path


def test_listing_reads_sidecars_and_prefers_safetensors(root):
    torch.save(ResnetGenerator(ngf=2, n_blocks=0).state_dict(), root / "translate" / "tiny.pth")
    torch.save(ResnetGenerator(ngf=2, n_blocks=0).state_dict(), root / "translate" / "other.pth")
    (root / "translate" / "other.json").write_text('{"family": "resnet", "direction": "B->A"}')
    (root / "translate" / "notes.txt").write_text("ignored")
    rows = generators.translators(root)
    assert [(r["name"], r["file"]) for r in rows] == [("other", "other.pth"), ("tiny", "tiny.safetensors")]
    assert rows[0]["direction"] == "B->A" and rows[0]["bytes"] > 0
    assert translate.models(root) == rows


def test_output_long_side_is_size_and_sides_are_multiples_of_4(root):
    for (w, h), size in (((640, 480), 64), ((30, 101), 50), ((7, 7), 16)):
        out = translate.run(Image.new("RGB", (w, h), "green"), model="tiny", size=size, device="cpu",
                            models_root=root)
        assert abs(max(out.size) - size) <= 2 and out.size[0] % 4 == 0 and out.size[1] % 4 == 0


def test_bad_requests_raise_value_errors_naming_the_choices(root):
    img = Image.new("RGB", (32, 32))
    with pytest.raises(ValueError, match="available: tiny"):
        translate.run(img, model="monet", device="cpu", models_root=root)
    with pytest.raises(ValueError, match="letters, digits"):
        translate.run(img, model="../tiny", device="cpu", models_root=root)
    with pytest.raises(ValueError, match="size must be an integer 16..2048"):
        translate.run(img, model="tiny", size=4096, device="cpu", models_root=root)
    with pytest.raises(ValueError, match="device must be one of"):
        translate.run(img, model="tiny", device="tpu", models_root=root)


class Boom:
    def __reduce__(self):
        return (print, ("code ran",))


def test_pickled_code_and_foreign_files_are_refused(root):
    with open(root / "translate" / "evil.pth", "wb") as f:
        pickle.dump({"model.1.weight": Boom()}, f)
    with pytest.raises(ValueError, match="weights_only"):
        translate.load("evil", torch.device("cpu"), root)
    torch.save({"main.0.weight": torch.zeros(1)}, root / "translate" / "dcgan.pth")
    with pytest.raises(ValueError, match="not a CycleGAN"):
        translate.load("dcgan", torch.device("cpu"), root)
    (root / "translate" / "junk.safetensors").write_bytes(b"\x00" * 20)
    with pytest.raises(ValueError, match="not a readable safetensors"):
        translate.load("junk", torch.device("cpu"), root)
    nan = ResnetGenerator(ngf=2, n_blocks=0).state_dict()
    nan["model.1.weight"][0] = float("nan")
    save_file(nan, str(root / "translate" / "nan.safetensors"))
    with pytest.raises(ValueError, match="NaN"):
        translate.load("nan", torch.device("cpu"), root)


def test_the_network_is_cached_until_the_file_changes(root):
    cpu = torch.device("cpu")
    first = translate.load("tiny", cpu, root)
    assert translate.load("tiny", cpu, root) is first
    save_file(ResnetGenerator(ngf=8, n_blocks=1).state_dict(), str(root / "translate" / "tiny.safetensors"))
    second = translate.load("tiny", cpu, root)
    assert second is not first and second.config["ngf"] == 8


def test_cli_translates_and_lists(root, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MODELS_DIR", str(root))
    src = tmp_path / "in.png"
    Image.new("RGB", (40, 20), "blue").save(src)
    assert cli(["translate", str(src), "-o", str(tmp_path / "out.png"), "--model", "tiny", "--size", "32"]) == 0
    assert Image.open(tmp_path / "out.png").size == (32, 16)
    assert cli(["translate", "--list"]) == 0
    assert "tiny" in capsys.readouterr().out
    assert cli(["translate", str(src), "-o", str(tmp_path / "x.png"), "--model", "nope"]) == 2
    assert "unknown translate model 'nope'" in capsys.readouterr().err
