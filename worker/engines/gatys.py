"""Gatys engine: PIL in, PIL out, over worker.core.gatys. The VGG-19 is loaded once per process and device.

Progressive: with init="fast" the run first paints the fast network's answer (Magenta's arbitrary-style network,
worker.engines.fast, on the same style images: a fraction of a second), hands it to on_progress as the first
preview (step 0), then optimises from it. Several styles: their style embeddings are blended with the
style_weights (the network's own way of mixing styles), so the preview already shows the blend.
"""
from __future__ import annotations

import dataclasses
import threading
from typing import Optional, Sequence

from PIL import Image

from worker.engines import Canceled, OnProgress, Progress, ShouldCancel

_NETS: dict = {}  # (device str, pool) -> VGG19
# From the fast picture every step runs at full size: a coarse stage first would blur the texture the fast
# network painted at full size (measured: 40 coarse-to-fine steps from it scored worse than 10 at full size).
FAST_SCHEDULE = ((1.0, 1.0),)
_LOCK = threading.Lock()
VGG_SHORT = 16  # relu5_1 sits after four 2x2 poolings: a shorter side pools away to nothing


def vgg(device: str = "auto", pool: str = "max"):
    """The cached VGG-19 on the picked device (loads it on first use; ModelsMissing if the cache lacks it)."""
    from worker import models
    from worker.core import vgg as vggmod
    from worker.device import pick

    dev = pick(device)
    key = (str(dev), pool)
    with _LOCK:
        if key not in _NETS:
            tensors, _ = models.load("vgg19")
            _NETS[key] = vggmod.build(tensors, pool=pool, device=dev)
        return _NETS[key]


def defaults() -> dict:
    """The effective defaults (GatysOptions', with FAST_SCHEDULE when the default init is fast)."""
    from worker.core import gatys

    d = gatys.defaults()
    return {**d, "schedule": FAST_SCHEDULE} if d["init"] == "fast" else d


def fast_guess(content: Image.Image, styles: Sequence[Image.Image], weights: Sequence[float], side: int,
               device: str = "auto") -> Image.Image:
    """The fast network's picture of `content` at long side `side`, in the blend of `styles` (weights normalised):
    one style embedding per style image, their weighted mean, one transformer pass. ValueError for an image the
    network cannot take at that side (a short side under 32 px)."""
    from worker.device import pick
    from worker.engines import fast

    dev = pick(device)
    return fast.paint_arbitrary(fast.fit(content, side), fast.style_embedding(styles, weights, dev), dev)


def check_style_side(opts, device) -> None:
    """The style images go through the VGG at (finest stage's long side) x style_scale: cap that side like the
    output side (the device's Gatys limit), or a 1024 px job with style_scale 4 runs the VGG at 4096 px."""
    from worker.core import gatys

    limit = gatys.MAX_SIDE["cuda" if device.type == "cuda" else "cpu"]
    side = round(max(opts.size, opts.min_size, gatys.VGG_MIN) * opts.style_scale)
    if side > limit:
        raise ValueError(f"style_scale: size x style_scale (the style image's long side) must be at most {limit} px "
                         f"on {device.type.upper()}, not {side}: at size {opts.size}, style_scale up to "
                         f"{limit / max(opts.size, opts.min_size, gatys.VGG_MIN):g}")


def run(content: Image.Image, styles: Sequence[Image.Image], *, style_weights: Optional[Sequence[float]] = None,
        device: str = "auto", on_progress: Optional[OnProgress] = None, should_cancel: Optional[ShouldCancel] = None,
        snapshot_every: int = 0, content_mask=None, **options) -> Image.Image:
    """Stylise `content` with `styles` (blended by style_weights). options: worker.core.gatys.GatysOptions fields
    (size, steps, content_weight, style_weight, tv_weight, init, style_scale, seed, preserve_color, ...); an absent
    or None one takes GatysOptions' default. init="fast": the fast network's picture is the first preview (step 0
    of `steps`) and the starting image. content_mask: (1, 1, h, w) per-pixel content weight (worker.core.gatys)."""
    from worker.core import gatys
    from worker.core.images import fit_size, to_image, to_tensor
    from worker.device import pick

    if not styles:
        raise ValueError("at least one style image is needed")
    opts = gatys.GatysOptions(**{k: v for k, v in options.items() if v is not None})
    if opts.init == "fast" and options.get("schedule") is None:
        opts = dataclasses.replace(opts, schedule=FAST_SCHEDULE)
    dev = pick(device)
    opts.check(dev)
    check_style_side(opts, dev)
    stages = gatys.plan(content.width, content.height, opts.size, opts.steps, opts.schedule, opts.min_size)
    thin = min(min(wh) for wh, _ in stages)
    if thin < VGG_SHORT:
        raise ValueError(f"image {content.width}x{content.height} is too thin: at size {opts.size} its short side "
                         f"would be {thin} px at the VGG, which needs at least {VGG_SHORT}")
    c, s = to_tensor(content), [to_tensor(x) for x in styles]
    weights = gatys._check(c, s, style_weights)  # the images and the blend, before the fast network sees them
    if should_cancel is not None and should_cancel():
        raise Canceled()
    init_image = guess = None
    if opts.init == "fast":  # before the VGG is loaded: the preview comes first, even on a cold start
        side = max(opts.size, opts.min_size, gatys.VGG_MIN)  # the finest stage's side (gatys.plan)
        try:
            guess = fast_guess(content, styles, weights, side, device)
        except ValueError:  # a sliver the fast network cannot take (short side < 32 px): start from the photo
            opts = dataclasses.replace(opts, init="content")
    if guess is not None:
        if on_progress is not None:
            preview = guess
            if opts.preserve_color:
                from worker.engines.fast import keep_color

                preview = keep_color(guess, content)
            out_size = fit_size(content.width, content.height, opts.size)
            on_progress(Progress(0, opts.steps, {}, preview.resize(out_size, Image.LANCZOS)))
        if should_cancel is not None and should_cancel():
            raise Canceled()
        init_image = to_tensor(guess)
    net = vgg(device)

    def on_step(s: gatys.Step) -> None:
        if on_progress is not None:
            on_progress(Progress(s.step, s.total, s.losses, to_image(s.image) if s.image is not None else None))
        if should_cancel is not None and should_cancel():
            raise Canceled()

    result = gatys.stylize(c, s, vgg=net, options=opts,
                           style_weights=style_weights, snapshot_every=snapshot_every, on_step=on_step,
                           init_image=init_image, content_mask=content_mask)
    return to_image(result.image)
