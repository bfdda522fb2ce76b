"""CycleGAN networks match the official checkpoint layout; unpaired training runs, exports and resumes."""
from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch
from PIL import Image

from tests.shapes import single_thread, write_shapes  # noqa: F401 (autouse fixture)
from worker.core.cyclegan import PatchDiscriminator, ResnetGenerator, resnet_from_state
from worker.engines import translate
from worker.train import cyclegan, data, loop

CPU = torch.device("cpu")


def test_resnet_9blocks_has_the_official_keys_and_shapes():
    sd = ResnetGenerator().state_dict()  # resnet_9blocks, ngf 64, norm instance (no affine, no running stats)
    assert len(sd) == 48 and not any("running" in k for k in sd)
    expect = {"model.1.weight": (64, 3, 7, 7), "model.1.bias": (64,), "model.4.weight": (128, 64, 3, 3),
              "model.7.weight": (256, 128, 3, 3), "model.10.conv_block.1.weight": (256, 256, 3, 3),
              "model.10.conv_block.5.weight": (256, 256, 3, 3), "model.18.conv_block.5.bias": (256,),
              "model.19.weight": (256, 128, 3, 3), "model.22.weight": (128, 64, 3, 3),
              "model.26.weight": (3, 64, 7, 7), "model.26.bias": (3,)}
    assert {k: tuple(sd[k].shape) for k in expect} == expect
    assert sum(v.numel() for v in sd.values()) == 11_378_179  # the official "G_A: 11.378 M"


def test_patchgan_has_the_official_keys_and_70px_field():
    d = PatchDiscriminator()
    sd = d.state_dict()
    assert [k for k in sd if k.endswith("weight")] == [f"model.{i}.weight" for i in (0, 2, 5, 8, 11)]
    assert sum(v.numel() for v in sd.values()) == 2_764_737  # the official "D_A: 2.765 M"
    assert d(torch.zeros(1, 3, 256, 256)).shape == (1, 1, 30, 30)
    # receptive field: one output logit depends on exactly a 70x70 input window (measured with eval-mode
    # BatchNorm, which is local; InstanceNorm's statistics would couple every pixel)
    x = torch.zeros(1, 3, 256, 256, requires_grad=True)
    PatchDiscriminator(norm="batch").eval()(x)[0, 0, 15, 15].backward()
    ys, xs = np.nonzero(x.grad[0].abs().sum(0).numpy())
    assert (ys.max() - ys.min() + 1, xs.max() - xs.min() + 1) == (70, 70)


def test_an_official_style_pth_loads_with_legacy_extras_and_runs_at_sizes_divisible_by_4(tmp_path, monkeypatch):
    monkeypatch.setenv("NO_BF16", "1")  # exact float32 comparison (bf16 autocast is on where the CPU has it)
    torch.manual_seed(0)
    net = ResnetGenerator(ngf=4, n_blocks=2).eval()
    state = {f"module.{k}": v for k, v in net.state_dict().items()}  # saved from DataParallel
    state["module.model.2.running_mean"] = torch.zeros(4)  # pre-0.4 InstanceNorm stats the official loader drops
    state["module.model.2.running_var"] = torch.ones(4)
    (tmp_path / "translate").mkdir()
    torch.save(state, tmp_path / "translate" / "tiny_monet.pth")
    loaded = translate.load("tiny_monet", CPU, tmp_path)
    assert loaded.config == {"family": "resnet", "in_nc": 3, "out_nc": 3, "ngf": 4, "n_blocks": 2,
                             "norm": "instance", "dropout": False}
    for h, w in ((32, 32), (36, 52), (100, 4 * 17)):
        x = torch.rand(1, 3, h, w)
        y = translate.apply(loaded, x, CPU)
        with torch.no_grad():
            want = (net(x * 2 - 1) + 1) / 2
        assert y.shape == (1, 3, h, w) and torch.allclose(y, want, atol=1e-5)


def test_a_dropout_generator_is_recognised():
    net = ResnetGenerator(ngf=4, n_blocks=3, dropout=True)
    assert "model.10.conv_block.6.weight" in net.state_dict()
    assert resnet_from_state(net.state_dict()).config["dropout"] is True


def test_wrong_state_dicts_are_refused():
    with pytest.raises(ValueError, match="not a ResNet"):
        resnet_from_state({"main.0.weight": torch.zeros(3, 3, 4, 4)})
    sd = ResnetGenerator(ngf=4, n_blocks=2).state_dict()
    sd["model.26.weight"] = torch.zeros(3, 5, 7, 7)
    with pytest.raises(ValueError, match="wrong shape"):
        resnet_from_state(sd)


@pytest.fixture(scope="module")
def domains(tmp_path_factory):
    root = tmp_path_factory.mktemp("domains")
    a = write_shapes(root / "a", n=24, size=32, seed=1)
    b = root / "b"
    b.mkdir()
    for p in sorted(a.iterdir()):  # domain B: the same kind of pictures, colours inverted
        Image.fromarray(255 - np.asarray(Image.open(p))).save(b / p.name)
    return a, b


def test_training_steps_export_a_loadable_pair_and_resume(domains, tmp_path):
    opt = cyclegan.Options(size=32, ngf=4, ndf=4, blocks=1, pool=4)
    torch.manual_seed(0)
    task = cyclegan.build(*domains, opt, CPU, "inv", tmp_path)
    assert task.a.shape == (24, 3, 32, 32)  # below 64 px no 286/256 jitter
    with torch.no_grad():
        before = task.nets["G_A"].eval()(task.fixed_a)
    res = loop.fit(task, tmp_path / "run", epochs=1, batch=4, max_steps=2, device=CPU, stream=io.StringIO())
    assert set(res.losses) == {"G", "cycle", "D_A", "D_B"} and all(math.isfinite(v) for v in res.losses.values())
    with torch.no_grad():
        assert (task.nets["G_A"].eval()(task.fixed_a) - before).abs().mean() > 1e-4
    grid = Image.open(res.samples[-1])
    assert grid.size == (3 * 34 + 2, 8 * 34 + 2)  # rows: real | translated | reconstructed, 4 A then 4 B
    names = sorted(p.name for p in (tmp_path / "translate").iterdir())
    assert names == ["inv.json", "inv.safetensors", "inv_b2a.json", "inv_b2a.safetensors"]
    out = translate.run(Image.new("RGB", (50, 30), "red"), model="inv", size=40, device="cpu", models_root=tmp_path)
    assert out.size == (40, 24)

    task2 = cyclegan.build(*domains, opt, CPU, "inv", tmp_path)
    res2 = loop.fit(task2, tmp_path / "run", epochs=1, batch=4, max_steps=1, device=CPU, stream=io.StringIO())
    assert (res2.resumed_from, res2.step) == (2, 3)


def test_learning_rate_is_constant_then_decays_linearly(domains, tmp_path):
    task = cyclegan.CycleTask(data.load_folder(domains[0], 32), data.load_folder(domains[1], 32),
                              cyclegan.Options(size=32, ngf=2, ndf=2, blocks=0), CPU, "x", tmp_path)
    lrs = []
    for step in (0, 49, 50, 75, 99):
        task.schedule(step, 100)
        lrs.append(task.opts["G"].param_groups[0]["lr"])
    assert lrs[:2] == [2e-4, 2e-4] and lrs[2] == 2e-4 and lrs[3] == pytest.approx(1e-4) and lrs[4] < 1e-5
