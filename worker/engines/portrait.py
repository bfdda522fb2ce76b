"""GAN portraits: a DCGAN face from a seed, upscaled (64 px -> size), then painted by the fast or Gatys engine.

The generator (gan-face-generate==1.1.1, trained on DigiFace-1M: research-only licence) loads once per process
and device. The same seed gives the same face on every device: latents are drawn on the CPU from the seed alone.
The seed is reported in the first progress event (losses["seed"]) and in the result's `info["seed"]`.
"""
from __future__ import annotations

import threading
from typing import Optional

import torch
from PIL import Image

from worker import device as devices
from worker import models
from worker.core.dcgan import Generator, latents, slerp
from worker.core.images import to_image
from worker.core.upscale import upscale
from worker.engines import OnProgress, Progress, ShouldCancel

ENGINES = ("fast", "gatys")
_GEN: dict[str, Generator] = {}
_LOCK = threading.Lock()


def generator(dev: torch.device) -> Generator:
    """The pinned DCGAN generator on `dev`, loaded from the model cache once per process."""
    with _LOCK:
        if str(dev) not in _GEN:
            tensors, _ = models.load("dcgan_faces")
            net = Generator()
            net.load_state_dict(tensors, strict=False)  # BatchNorm's num_batches_tracked is not stored
            _GEN[str(dev)] = net.eval().requires_grad_(False).to(dev)
        return _GEN[str(dev)]


def trained(name: str, dev: torch.device) -> torch.nn.Module:
    """A generator made by `train-gan` (MODELS_DIR/generators/NAME), loaded once per process and device."""
    from worker import generators

    with _LOCK:
        key = f"{name}@{dev}"
        if key not in _GEN:
            _GEN[key] = generators.load(name, device=str(dev))[0].requires_grad_(False)
        return _GEN[key]


def faces(seeds: list[int], device: str = "auto", net: Optional[torch.nn.Module] = None) -> torch.Tensor:
    """(N, 3, 64, 64) faces in 0..1, one per seed, generated as one batch."""
    dev = devices.pick(device)
    net = net if net is not None else generator(dev)
    with torch.inference_mode():
        return ((net(latents(seeds).to(dev)).float() + 1) / 2).clamp(0, 1).cpu()


def face(seed: int, device: str = "auto") -> Image.Image:
    """The raw 64x64 face for `seed`."""
    return to_image(faces([seed], device)[0])


def interpolate(a: int, b: int, frames: int, device: str = "auto") -> list[Image.Image]:
    """Faces along the spherical path between the latents of seeds a and b; the ends are exactly their faces."""
    if isinstance(frames, bool) or not isinstance(frames, int) or not 2 <= frames <= 240:
        raise ValueError(f"frames must be an integer from 2 to 240, not {frames!r}")
    za, zb = latents([a, b])
    z = torch.stack([slerp(za, zb, i / (frames - 1)) for i in range(frames)])
    dev = devices.pick(device)
    with torch.inference_mode():
        out = ((generator(dev)(z.to(dev)).float() + 1) / 2).clamp(0, 1).cpu()
    return [to_image(x) for x in out]


def run(seed: int, style: Image.Image | None = None, *, preset=None, engine: str = "fast", size: int = 512,
        device: str = "auto", on_progress: Optional[OnProgress] = None, should_cancel: Optional[ShouldCancel] = None,
        snapshot_every: int = 0, generator: str | torch.nn.Module | None = None) -> Image.Image:
    """Paint the face of `seed`. `generator`: the name of a generator made by train-gan, or a DCGAN-layout
    module, to use instead of the pinned one. Without style or preset the fast engine uses preset 0."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if style is not None and preset is not None:
        raise ValueError("give a style image or a preset, not both")
    if engine == "gatys" and style is None:
        raise ValueError("the gatys engine needs a style image (presets belong to the fast engine)")
    if isinstance(size, bool) or not isinstance(size, int) or not 64 <= size <= 2048:
        raise ValueError(f"size must be an integer from 64 to 2048 pixels, not {size!r}")
    if isinstance(generator, str):
        generator = trained(generator, devices.pick(device))
    raw = faces([seed], device, net=generator)  # (1, 3, 64, 64); validates the seed
    content = to_image(upscale(raw, size))
    report = on_progress or (lambda p: None)
    report(Progress(0, 1, {"seed": float(seed)}, preview=content))
    if engine == "fast":
        from worker.engines import fast

        out = fast.run(content, style, preset=None if style is not None else (preset if preset is not None else 0),
                       size=size, device=device, should_cancel=should_cancel,
                       on_progress=lambda p: report(Progress(p.step, p.total, {"seed": float(seed)})))
    else:
        from worker.engines import gatys

        out = gatys.run(content, [style], size=size, seed=seed, device=device, on_progress=on_progress,
                        should_cancel=should_cancel, snapshot_every=snapshot_every)
    out.info["seed"] = seed
    return out
