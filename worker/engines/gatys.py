"""Gatys engine: PIL in, PIL out, over worker.core.gatys. The VGG-19 is loaded once per process and device."""
from __future__ import annotations

import threading
from typing import Optional, Sequence

from PIL import Image

from worker.engines import Canceled, OnProgress, Progress, ShouldCancel

_NETS: dict = {}  # (device str, pool) -> VGG19
_LOCK = threading.Lock()


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
    """The effective defaults (GatysOptions')."""
    from worker.core import gatys

    return gatys.defaults()


def run(content: Image.Image, styles: Sequence[Image.Image], *, style_weights: Optional[Sequence[float]] = None,
        device: str = "auto", on_progress: Optional[OnProgress] = None, should_cancel: Optional[ShouldCancel] = None,
        snapshot_every: int = 0, **options) -> Image.Image:
    """Stylise `content` with `styles` (blended by style_weights). options: worker.core.gatys.GatysOptions fields
    (size, steps, content_weight, style_weight, tv_weight, init, style_scale, seed, preserve_color, ...); an absent
    or None one takes GatysOptions' default."""
    from worker.core import gatys
    from worker.core.images import to_image, to_tensor

    if not styles:
        raise ValueError("at least one style image is needed")
    opts = gatys.GatysOptions(**{k: v for k, v in options.items() if v is not None})
    if should_cancel is not None and should_cancel():
        raise Canceled()
    net = vgg(device)

    def on_step(s: gatys.Step) -> None:
        if on_progress is not None:
            on_progress(Progress(s.step, s.total, s.losses, to_image(s.image) if s.image is not None else None))
        if should_cancel is not None and should_cancel():
            raise Canceled()

    result = gatys.stylize(to_tensor(content), [to_tensor(s) for s in styles], vgg=net, options=opts,
                           style_weights=style_weights, snapshot_every=snapshot_every, on_step=on_step)
    return to_image(result.image)
