"""GAN portraits: size, seed reporting, preview, the Gatys hand-off, and the upscaler."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from worker.core.upscale import upscale
from worker.engines import portrait


def test_fast_portrait_size_seed_and_first_preview():
    events = []
    out = portrait.run(11, preset="2:0.5,9:0.5", size=96, device="cpu", on_progress=events.append)
    assert out.size == (96, 96) and out.info["seed"] == 11
    assert events[0].preview is not None and events[0].preview.size == (96, 96)
    assert events[0].losses["seed"] == 11
    again = portrait.run(11, preset="2:0.5,9:0.5", size=96, device="cpu")
    assert np.array_equal(np.asarray(out), np.asarray(again))
    with pytest.raises(ValueError, match="engine"):
        portrait.run(1, engine="oil")
    with pytest.raises(ValueError, match="size"):
        portrait.run(1, size=4096)
    with pytest.raises(ValueError, match="style image"):
        portrait.run(1, engine="gatys")


def test_gatys_portrait_hands_the_upscaled_face_to_gatys(monkeypatch):
    from worker.engines import gatys

    seen = {}

    def fake_run(content, styles, **kw):  # unit test: the Gatys engine itself is tested by its owner
        seen.update(content=content, styles=styles, **kw)
        return content

    monkeypatch.setattr(gatys, "run", fake_run)
    style = Image.new("RGB", (32, 32), (200, 40, 40))
    out = portrait.run(5, style, engine="gatys", size=128, device="cpu", snapshot_every=3)
    assert seen["content"].size == (128, 128) and seen["styles"] == [style]
    assert seen["size"] == 128 and seen["seed"] == 5 and seen["snapshot_every"] == 3
    assert out.info["seed"] == 5


def test_portrait_cli_reports_the_seed(tmp_path, capsys):
    from worker.__main__ import main

    assert main(["portrait", "-o", str(tmp_path / "p.png"), "--seed", "3", "--preset", "4", "--size", "64",
                 "--json"]) == 0
    assert '"seed": 3' in capsys.readouterr().out
    assert Image.open(tmp_path / "p.png").size == (64, 64)


def test_upscale_is_consistent_with_the_source_and_sharper_than_bicubic():
    x = portrait.faces([2], device="cpu")  # (1, 3, 64, 64)
    y = upscale(x, 256)
    bic = F.interpolate(x, size=(256, 256), mode="bicubic", align_corners=False).clamp(0, 1)
    assert y.shape == (1, 3, 256, 256)
    down = lambda t: F.interpolate(t, size=(64, 64), mode="bicubic", antialias=True, align_corners=False)  # noqa
    assert (down(y) - x).abs().mean() < (down(bic) - x).abs().mean()  # back-projection: closer to the source
    grad = lambda t: (t[..., 1:, :] - t[..., :-1, :]).abs().mean()  # noqa: E731
    assert grad(y) > grad(bic)
    assert upscale(torch.rand(1, 3, 10, 20), 40).shape == (1, 3, 20, 40)
    with pytest.raises(ValueError, match="size"):
        upscale(x, 0)
