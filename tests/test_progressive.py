"""Progressive Gatys (worker/engines/gatys.py, init="fast"): the fast network's answer is the first preview and the
starting image, on the real cached networks (VGG-19 and Magenta's arbitrary-style pair); tiny images, few steps."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from worker.core import gatys as core
from worker.core.images import to_image, to_tensor
from worker.engines import gatys as engine
from tests.test_gatys import dots, gradient, stripes

FEW = dict(size=64, steps=2, seed=0, device="cpu")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # 2 busy shared cores: one thread is far quicker for these tiny convs (see tests/test_gatys.py)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return to_image(gradient(96, 80))


@pytest.fixture(scope="module")
def painting() -> Image.Image:
    return to_image(stripes(96, 96, period=8, colour=(0.9, 0.1, 0.1)))  # red diagonal stripes on white


def arr(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0


def progress_of(photo, styles, **kw):
    seen = []
    out = engine.run(photo, styles, on_progress=seen.append, **{**FEW, **kw})
    return seen, out


def test_first_preview_is_the_fast_networks_stylised_picture(photo, painting):
    from worker.engines import fast

    seen, out = progress_of(photo, [painting], init="fast")
    first = seen[0]
    assert (first.step, first.total) == (0, FEW["steps"]) and first.preview is not None
    assert [p.step for p in seen[1:]] == [1, 2]
    # the fast network at the finest stage's side (min_size 128 for a 64 px job), shown at the output size
    expected = fast.run(photo, painting, size=128, device="cpu").resize(out.size, Image.LANCZOS)
    assert first.preview.size == out.size
    assert np.abs(arr(first.preview) - arr(expected)).max() <= 1 / 255
    # stylised, not the photo: far from the photo, and redder (the style's colour) than the photo
    plain = arr(photo.resize(out.size, Image.LANCZOS))
    assert np.abs(arr(first.preview) - plain).mean() > 0.1
    red = lambda a: a[..., 0].mean() - a[..., 1:].mean()  # noqa: E731
    assert red(arr(first.preview)) > red(plain) + 0.05


def test_fast_preview_comes_before_the_vgg_is_loaded(photo, painting, monkeypatch):
    events = []
    real = engine.vgg
    monkeypatch.setattr(engine, "vgg", lambda device="auto", pool="max": events.append("vgg") or real(device, pool))
    engine.run(photo, [painting], init="fast", on_progress=lambda p: events.append(p.step), **FEW)
    assert events[:2] == [0, "vgg"]


def test_init_content_has_no_fast_preview(photo, painting):
    seen, _ = progress_of(photo, [painting], init="content")
    assert [p.step for p in seen] == [1, 2] and all(p.preview is None for p in seen)


def test_init_fast_starts_from_the_fast_picture_and_repeats(photo, painting):
    frozen = dict(init="fast", steps=1, optimizer="adam", lr=1e-9)  # the optimiser cannot move: out = start
    seen, out = progress_of(photo, [painting], **frozen)
    assert np.abs(arr(out) - arr(seen[0].preview)).mean() < 0.02
    _, content_start = progress_of(photo, [painting], **{**frozen, "init": "content"})
    assert np.abs(arr(out) - arr(content_start)).mean() > 0.1
    # deterministic: the same call gives the same pixels (L-BFGS, a few steps)
    a = engine.run(photo, [painting], init="fast", **{**FEW, "steps": 3})
    b = engine.run(photo, [painting], init="fast", **{**FEW, "steps": 3})
    assert np.array_equal(arr(a), arr(b))


def test_several_styles_blend_their_embeddings_in_the_preview(photo, painting):
    other = to_image(dots(96, 96))
    only_first = engine.fast_guess(photo, [painting], [1.0], 128, "cpu")
    assert arr(engine.fast_guess(photo, [painting, other], [1.0, 0.0], 128, "cpu")).tolist() == \
        arr(only_first).tolist()
    half = engine.fast_guess(photo, [painting, other], [0.5, 0.5], 128, "cpu")
    only_other = engine.fast_guess(photo, [other], [1.0], 128, "cpu")
    assert np.abs(arr(half) - arr(only_first)).mean() > 0.01 and np.abs(arr(half) - arr(only_other)).mean() > 0.01
    seen, _ = progress_of(photo, [painting, other], style_weights=[0.5, 0.5], init="fast")
    assert np.abs(arr(seen[0].preview) - arr(half.resize(seen[0].preview.size, Image.LANCZOS))).max() <= 1 / 255


def test_preserve_color_preview_keeps_the_photos_colour(photo, painting):
    chroma = lambda im: np.asarray(im.convert("YCbCr"), dtype=np.float32)[..., 1:] / 255  # noqa: E731
    drift = {}
    for keep in (True, False):
        seen, _ = progress_of(photo, [painting], init="fast", preserve_color=keep, steps=1)
        plain = photo.resize(seen[0].preview.size, Image.LANCZOS)
        drift[keep] = np.abs(chroma(seen[0].preview) - chroma(plain)).mean()
    # (Y extremes clip in RGB, so the kept chroma is close, not exact)
    assert drift[True] < 0.05 and drift[True] < 0.3 * drift[False]


def test_cancel_after_the_preview_stops_before_the_optimisation(photo, painting):
    from worker.engines import Canceled

    seen = []
    with pytest.raises(Canceled):
        engine.run(photo, [painting], init="fast", on_progress=seen.append, should_cancel=lambda: bool(seen),
                   **FEW)
    assert [p.step for p in seen] == [0]


def test_bad_blend_is_refused_before_the_fast_network_runs(photo, painting):
    with pytest.raises(ValueError, match="one weight per style"):
        engine.run(photo, [painting], init="fast", style_weights=[0.5, 0.5], **FEW)


def test_core_starts_from_the_picture_it_is_given():
    net = engine.vgg("cpu")
    frozen = dict(size=48, min_size=32, steps=1, optimizer="adam", lr=1e-9, schedule=((1.0, 1.0),), cache=None)
    guess = to_tensor(to_image(stripes(48, 40)))
    r = core.stylize(gradient(), [stripes()], vgg=net, init="fast", init_image=guess, **frozen)
    assert (r.image - guess).abs().mean() < 0.02
    # the core cannot paint the fast picture itself: a direct call without one starts from the content
    r = core.stylize(gradient(), [stripes()], vgg=net, init="fast", **frozen)
    assert (r.image - gradient()).abs().mean() < 0.02


def test_progressive_is_the_default_and_runs_at_full_size(photo, painting, monkeypatch):
    assert engine.defaults()["init"] == "fast" and engine.defaults()["schedule"] == engine.FAST_SCHEDULE
    seen = []
    engine.run(photo, [painting], size=64, steps=2, device="cpu", on_progress=seen.append)  # no init given
    assert seen[0].step == 0 and seen[0].preview is not None
    ran = []
    monkeypatch.setattr(core, "stylize", lambda c, s, **kw: ran.append(kw["options"].schedule) or
                        core.Result(c, {}, 0, (0, 0)))
    engine.run(photo, [painting], size=64, steps=2, device="cpu")
    engine.run(photo, [painting], size=64, steps=2, device="cpu", schedule=((0.5, 0.5), (1.0, 0.5)))
    engine.run(photo, [painting], size=64, steps=2, device="cpu", init="content")
    assert ran == [engine.FAST_SCHEDULE, ((0.5, 0.5), (1.0, 0.5)), core.GatysOptions().schedule]


def test_a_sliver_the_fast_network_cannot_take_starts_from_the_photo(painting):
    sliver = to_image(gradient(400, 80))  # at 128 px its short side would be 26 px: under the fast network's 32
    with pytest.raises(ValueError, match="too thin"):
        engine.fast_guess(sliver, [painting], [1.0], 128, "cpu")
    seen = []
    out = engine.run(sliver, [painting], size=128, steps=1, device="cpu", init="fast", optimizer="adam", lr=1e-9,
                     on_progress=seen.append)
    assert [p.step for p in seen] == [1]  # no fast preview
    assert np.abs(arr(out) - arr(sliver.resize(out.size, Image.LANCZOS))).mean() < 0.03  # started from the photo


def test_a_sliver_the_vgg_cannot_take_is_a_value_error(painting):
    for init in ("fast", "content"):  # content: coarse to fine, its half-size stage is the thinnest
        with pytest.raises(ValueError, match="too thin.*at least 16"):
            engine.run(to_image(gradient(400, 20)), [painting], size=128, steps=2, device="cpu", init=init)
    with pytest.raises(ValueError, match="too thin"):
        engine.run(to_image(gradient(400, 40)), [painting], size=256, steps=10, device="cpu", init="content")
