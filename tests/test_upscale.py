"""Print-size upscaling (worker/engines/upscale.py): seams, limits, progress per tile, cancel, x2 from x4.

The tiling tests run a stand-in network with a receptive field smaller than the tiles' context (nearest x4, then a
3x3 conv): with it, a tiled run must equal the one-tile run to float rounding, so any misplaced tile, wrong crop,
ramp that does not sum to one or lost carried-over row shows. One test runs the real network with tiny tiles.
"""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from tests import fake_engine
from tests.service_util import image_bytes
from tests.test_api import client, make, post, var  # noqa: F401 (the same fixtures as the API tests)
from worker import params as P
from worker import tasks
from worker.engines import Canceled
from worker.engines import upscale


class Local(nn.Module):
    """x4 with a receptive field of about one source pixel."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, 1, 1)
        with torch.no_grad():
            g = torch.Generator().manual_seed(0)
            self.conv.weight.copy_(torch.rand(3, 3, 3, 3, generator=g) / 27 * 2)
            self.conv.bias.zero_()

    def forward(self, x):
        return torch.sin(3 * self.conv(F.interpolate(x, scale_factor=4, mode="nearest"))) * 0.5 + 0.5


@pytest.fixture
def local(monkeypatch):
    monkeypatch.setattr(upscale, "net", lambda dev: Local().eval())


def picture(w: int, h: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    arr = np.stack([xx / w, yy / h, 0.5 + 0.5 * np.sin(xx / 3.0) * np.cos(yy / 4.0)], -1)
    arr = np.clip(arr + rng.normal(0, 0.05, arr.shape), 0, 1)
    return Image.fromarray((arr * 255).astype(np.uint8))


def px(img: Image.Image) -> np.ndarray:
    return np.asarray(img, dtype=np.float32) / 255


def test_spans_cover_and_ramps_sum_to_one():
    for length, tile in ((100, 30), (61, 20), (20, 20), (17, 64), (1000, 192)):
        spans = upscale.spans(length, tile)
        assert spans[0][0] == 0 and spans[-1][1] == length
        assert all(e - s <= tile for s, e in spans)
        assert all(b[0] >= a[0] + upscale.OVERLAP and a[1] - b[0] >= upscale.OVERLAP for a, b in zip(spans, spans[1:]))
        total = np.zeros(length * 4)
        for (s, e), w in zip(spans, upscale.ramps(spans, 4)):
            total[s * 4:e * 4] += w
        np.testing.assert_allclose(total, 1, atol=1e-6)


@pytest.mark.parametrize("factor", [2, 4])
def test_tiled_equals_one_tile_with_a_local_network(local, factor):
    img = picture(77, 53)
    whole = px(upscale.run(img, factor, tile=128, device="cpu"))
    tiled = px(upscale.run(img, factor, tile=20, device="cpu"))  # 6 x 4 tiles, 3 strips carried over
    assert whole.shape == tiled.shape == (53 * factor, 77 * factor, 3)
    assert np.abs(whole - tiled).max() <= 1 / 255  # 8-bit rounding of sums in a different order


def test_tiled_is_close_to_one_tile_with_the_real_network():
    img = picture(40, 28)
    whole = px(upscale.run(img, 4, tile=64, device="cpu"))
    tiled = px(upscale.run(img, 4, tile=20, device="cpu"))  # 2 x 2 tiles, each seeing 12 px of context
    diff = np.abs(whole - tiled)
    # what differs is only the far context a tile cannot see (and bf16 rounding on CPUs that use it)
    assert diff.mean() < 0.01 and np.percentile(diff, 99) < 0.06, (diff.mean(), np.percentile(diff, 99))
    assert whole.std() > 0.1


def test_x2_is_the_x4_output_shrunk(local):
    img = picture(30, 22)
    x4, x2 = px(upscale.run(img, 4, device="cpu")), px(upscale.run(img, 2, device="cpu"))
    shrunk = x4.reshape(44, 2, 60, 2, 3).mean(axis=(1, 3))
    assert np.abs(x2 - shrunk).max() <= 1 / 255 + 1e-6


def test_x1_leaves_the_picture_alone(monkeypatch):
    monkeypatch.setattr(upscale, "net", lambda dev: pytest.fail("x1 ran the network"))
    img = picture(30, 22)
    assert np.array_equal(px(upscale.run(img, 1)), px(img))


def test_limits_name_the_output_limit(monkeypatch):
    monkeypatch.setattr(upscale, "net", lambda dev: pytest.fail("an over-limit request ran the network"))
    upscale.check((1024, 700), 4)
    upscale.check((2048, 2048), 2)
    upscale.check((4096, 10), 1)
    for size, factor in (((1025, 700), 4), ((700, 2049), 2), ((4097, 10), 1)):
        with pytest.raises(ValueError, match="4096 px"):
            upscale.check(size, factor)
    with pytest.raises(ValueError, match="4096 px"):
        upscale.run(Image.new("RGB", (1100, 20)), 4)
    for factor in (3, 0, 8, True, "4"):
        with pytest.raises(ValueError, match="1, 2, 4"):
            upscale.check((10, 10), factor)


def test_progress_per_tile_and_cancel_between_tiles(local):
    img = picture(50, 30)
    seen = []
    upscale.run(img, 4, tile=20, device="cpu", on_progress=seen.append)
    total = len(upscale.spans(30, 20)) * len(upscale.spans(50, 20))
    assert total > 4
    assert [(p.step, p.total) for p in seen] == [(i, total) for i in range(1, total + 1)]

    seen.clear()
    asked = []

    def cancel_after_three():
        asked.append(1)
        return len(asked) > 3

    with pytest.raises(Canceled):
        upscale.run(img, 4, tile=20, device="cpu", on_progress=seen.append, should_cancel=cancel_after_three)
    assert [p.step for p in seen] == [1, 2, 3]  # three tiles ran, the fourth was never started


# --- through the API and the task: `upscale` on a job ---------------------------------------------------------------

def test_api_job_upscale_enlarges_the_result_after_the_engine(client, monkeypatch):
    """A fake main engine (tests/fake_engine.py) paints a 32x24 picture; the real upscaler enlarges it."""
    monkeypatch.setitem(tasks.ENGINES, "upscale", "worker.engines.upscale")
    seen, report = [], tasks.Run.on_progress

    def record(self, p):
        seen.append((p.step, p.total))
        report(self, p)

    monkeypatch.setattr(tasks.Run, "on_progress", record)
    r = post(client, content=image_bytes(), engine="fast", preset="3", size="32", upscale="2")
    assert r.status_code == 202, r.json
    assert r.json["params"]["upscale"] == 2
    assert tasks.run_job(r.json["id"]) == "succeeded"
    img = Image.open(io.BytesIO(client.get(r.json["urls"]["result"]).data))
    assert img.size == (64, 48)
    assert fake_engine.CALLS and "upscale" not in fake_engine.CALLS[0]  # the engine never sees it
    assert seen == [(1, 3), (2, 3), (3, 3), (4, 4)]  # the engine's 3 steps, then its one tile continues the count


def test_api_upscale_refused_values_and_the_output_limit(client, monkeypatch):
    r = post(client, content=image_bytes(), engine="fast", preset="3", upscale="3")
    assert r.status_code == 422 and r.json["error"]["field"] == "upscale" and "1, 2, 4" in r.json["error"]["message"]
    monkeypatch.setattr(P, "MAX_OUTPUT", 2048)  # the API caps size at 1024, so x4 meets 4096 exactly
    r = post(client, content=image_bytes(), engine="fast", preset="3", size="1024", upscale="4")
    assert r.status_code == 422 and "2048 px" in r.json["error"]["message"], r.json
    r = post(client, seed="1", preset="3", size="512", upscale="4", path="/api/portrait")
    assert r.status_code == 202 and r.json["params"]["upscale"] == 4
    r = post(client, seed="1", preset="3", size="1024", upscale="4", path="/api/portrait")
    assert r.status_code == 422 and r.json["error"]["field"] == "upscale"


def test_api_job_upscale_cancel_between_tiles(client, monkeypatch, local):
    monkeypatch.setitem(tasks.ENGINES, "upscale", "worker.engines.upscale")
    monkeypatch.setattr(upscale, "TILE", {"cpu": 20, "cuda": 20})
    r = post(client, content=image_bytes(), engine="fast", preset="3", size="64", upscale="4")
    tiles = []

    def cancel_at_second_tile(self):
        tiles.append(1)
        return len(tiles) > 3 + 1  # the fake engine asks once per step (3), then once per tile

    monkeypatch.setattr(tasks.Run, "should_cancel", cancel_at_second_tile)
    assert tasks.run_job(r.json["id"]) == "canceled"
    assert client.get(r.json["urls"]["result"]).status_code == 409


def test_cli_upscale_after_the_engine(tmp_path, capsys):
    from worker.__main__ import main

    src, out = tmp_path / "in.png", tmp_path / "out.png"
    picture(64, 48).save(src)
    assert main(["stylize", str(src), "--preset", "3", "--size", "48", "--upscale", "2", "-o", str(out),
                 "--device", "cpu"]) == 0
    assert Image.open(out).size == (96, 72)  # 48x36 from the engine, then x2
    assert main(["stylize", str(src), "--preset", "3", "--size", "1025", "--upscale", "4", "-o", str(out)]) == 2
    assert "4096 px" in capsys.readouterr().err
