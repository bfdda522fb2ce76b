"""pix2pix U-Net matches the official unet_256 layout; paired (edges -> fills) training runs, exports, resumes."""
from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch
from PIL import Image

from tests.shapes import single_thread, write_pairs  # noqa: F401 (autouse fixture)
from worker.core.cyclegan import PatchDiscriminator
from worker.core.pix2pix import UnetGenerator, unet_from_state, use_batch_stats
from worker.engines import translate
from worker.train import data, loop, pix2pix

CPU = torch.device("cpu")
INNER = "model.model.1" + ".model.3" * 6  # the innermost block of unet_256


def test_unet_256_has_the_official_keys_and_shapes():
    sd = UnetGenerator().state_dict()  # unet_256: 8 levels, ngf 64, BatchNorm, dropout
    expect = {"model.model.0.weight": (64, 3, 4, 4), "model.model.1.model.1.weight": (128, 64, 4, 4),
              "model.model.1.model.2.running_mean": (128,), "model.model.1.model.5.weight": (256, 64, 4, 4),
              "model.model.1.model.6.weight": (64,), "model.model.3.weight": (128, 3, 4, 4),
              "model.model.3.bias": (3,), f"{INNER}.model.1.weight": (512, 512, 4, 4),
              f"{INNER}.model.3.weight": (512, 512, 4, 4), f"{INNER}.model.4.running_var": (512,)}
    assert {k: tuple(sd[k].shape) for k in expect} == expect
    assert "model.model.0.bias" not in sd and f"{INNER}.model.5.weight" not in sd
    params = sum(p.numel() for p in UnetGenerator().parameters())
    assert params == 54_413_955  # the official "G: 54.414 M"
    d = PatchDiscriminator(6, norm="batch")  # the conditional discriminator: official "D: 2.769 M"
    assert sum(p.numel() for p in d.parameters()) == 2_768_705


def test_an_official_style_unet_loads_and_runs_at_any_size_divisible_by_4(tmp_path, monkeypatch):
    monkeypatch.setenv("NO_BF16", "1")
    torch.manual_seed(0)
    net = UnetGenerator(ngf=4, num_downs=6)
    net(torch.randn(2, 3, 64, 64))  # train mode: give BatchNorm real running statistics
    state = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}  # old torch
    (tmp_path / "translate").mkdir()
    torch.save(state, tmp_path / "translate" / "facades.pth")
    loaded = translate.load("facades", CPU, tmp_path)
    assert loaded.config["num_downs"] == 6 and loaded.config["ngf"] == 4 and loaded.multiple == 64
    ref = use_batch_stats(net).eval()
    for h, w in ((64, 64), (36, 52), (128, 20)):
        x = torch.rand(1, 3, h, w)
        y = translate.apply(loaded, x, CPU)
        assert y.shape == (1, 3, h, w) and torch.isfinite(y).all()
        if (h, w) == (64, 64):  # no padding needed: exactly the network's own output
            with torch.no_grad():
                assert torch.allclose(y, (ref(x * 2 - 1) + 1) / 2, atol=1e-5)


def test_depth_and_norm_are_read_from_the_keys():
    for downs in (5, 7, 8):
        net = unet_from_state(UnetGenerator(ngf=2, num_downs=downs).state_dict())
        assert net.config["num_downs"] == downs and net.config["norm"] == "batch"
    inst = unet_from_state(UnetGenerator(ngf=2, num_downs=5, norm="instance").state_dict())
    assert inst.config["norm"] == "instance"
    with pytest.raises(ValueError, match="not a U-Net"):
        unet_from_state({"model.1.weight": torch.zeros(4, 3, 7, 7)})


def test_side_by_side_pairs_split_into_input_and_target(tmp_path):
    folder = write_pairs(tmp_path / "pairs", n=3, size=32)
    a, b = data.load_pairs(folder, 32)
    assert a.shape == b.shape == (3, 3, 32, 32)
    assert a.float().mean() > b.float().mean()  # edges on white vs filled shapes
    with pytest.raises(ValueError, match="side by side"):
        data.split_pair(Image.new("RGB", (10, 20)))


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    return write_pairs(tmp_path_factory.mktemp("pairs"), n=16, size=32)


def test_training_steps_export_and_resume(pairs, tmp_path):
    opt = pix2pix.Options(size=32, ngf=4, ndf=4, downs=5)
    torch.manual_seed(0)
    task = pix2pix.build(pairs, opt, CPU, "fill", tmp_path)
    before = task.samples()
    res = loop.fit(task, tmp_path / "run", epochs=2, batch=2, max_steps=3, device=CPU, stream=io.StringIO())
    assert set(res.losses) == {"G", "L1", "D"} and all(math.isfinite(v) for v in res.losses.values())
    after = Image.open(res.samples[-1])
    assert after.size == before.size == (3 * 34 + 2, 4 * 34 + 2)  # rows: input | output | target
    mid = (slice(None), slice(36, 68))  # the output column changed, the input column did not
    b, a = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    assert np.abs(a[mid] - b[mid]).mean() > 0.5 and np.abs(a[:, :34] - b[:, :34]).max() == 0
    assert (tmp_path / "translate" / "fill.safetensors").is_file()
    out = translate.run(Image.new("RGB", (30, 50), "white"), model="fill", size=44, device="cpu",
                        models_root=tmp_path)
    assert out.size == (28, 44)
    res2 = loop.fit(pix2pix.build(pairs, opt, CPU, "fill", tmp_path), tmp_path / "run", epochs=2, batch=2,
                    max_steps=2, device=CPU, stream=io.StringIO())
    assert (res2.resumed_from, res2.step) == (3, 5)


def test_options_are_checked(pairs, tmp_path):
    a, b = data.load_pairs(pairs, 32)
    with pytest.raises(ValueError, match="multiple of 2\\*\\*downs"):
        pix2pix.PairTask(a, b, pix2pix.Options(size=32, downs=8), CPU, "x", tmp_path)
    with pytest.raises(ValueError, match="AtoB, BtoA"):
        pix2pix.PairTask(a, b, pix2pix.Options(size=32, downs=5, direction="up"), CPU, "x", tmp_path)


def test_pairs_get_the_same_random_crop_and_flip():
    a = torch.arange(2 * 3 * 40 * 40, dtype=torch.int32).reshape(2, 3, 40, 40)
    b = a + 1
    seen = set()
    for seed in range(8):
        ca, cb = data.augment(a, b, size=32, gen=torch.Generator().manual_seed(seed))
        assert ca.shape == (2, 3, 32, 32) and torch.equal(cb, ca + 1)  # aligned: same window, same flip
        seen.add(int(ca[0, 0, 0, 0]))
    assert len(seen) > 1  # and the window does move
