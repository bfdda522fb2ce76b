"""Gatys et al. neural style transfer: optimise an image so its VGG-19 features match a content image (relu4_2)
and its Gram matrices match one or more style images (relu1_1..relu5_1), plus a total-variation smoothness term.

Pure: tensors in, tensors out, no file I/O. The keyword defaults of `stylize` are the one source of truth for
every caller (`defaults()` reads them back). Losses are normalised so the weights mean something:
- content: ||F(x) - F(c)||^2 / ||F(c)||^2 per content layer (mean over layers);
- style: ||G(x) - G(s)||^2 / ||G(s)||^2 per style layer, G = F F^T / (H W), weighted mean over layers;
- tv: mean squared difference of neighbouring pixels (RGB 0..1).
The VGG forward runs under bf16 autocast where the device supports it (worker.device); all loss maths is float32.

Speed: coarse to fine by default (most steps at half size, the rest at full size), style Grams computed once per
(style image, size, layers) and cached across runs, the VGG stopping at the deepest layer needed.
Guards: NaN/inf loss or a flat black result restarts once with safer settings (float32, content init, Adam,
whose steps are bounded); a second failure raises RuntimeError. Tiny requests run at `min_size` and are
scaled down at the end. Long sides beyond 1024 px on the CPU or 2048 px on a GPU are refused with ValueError.
"""
from __future__ import annotations

import hashlib
import inspect
import math
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import torch

from worker.core import images
from worker.core.vgg import check_layers
from worker.device import autocast

OPTIMIZERS = ("lbfgs", "adam")
INITS = ("content", "noise", "style")
CONTENT_LAYERS = ("relu4_2",)
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
MAX_SIDE = {"cpu": 1024, "cuda": 2048}
MIN_SIDE = 16
COARSE_MIN = 64  # a coarse stage never goes below this long side (relu5_1 would be a few pixels)
FIRST_STEP = 0.03  # mean pixel change of L-BFGS's first step (see _run)
VGG_MIN = 32  # no image goes through the VGG smaller than this long side (relu5_1 sits at 1/16 size)


@dataclass
class Step:
    """Progress after one optimiser step. `image` (1, 3, H, W) 0..1 at output size, on snapshot steps only."""
    step: int
    total: int
    losses: dict[str, float] = field(default_factory=dict)
    image: Optional[torch.Tensor] = None
    side: int = 0  # long side of the stage being optimised


@dataclass
class Result:
    image: torch.Tensor  # (1, 3, H, W) 0..1 on the CPU, at the output size
    losses: dict[str, float]
    restarts: int
    work_size: tuple[int, int]  # (w, h) of the finest stage


OnStep = Callable[[Step], None]


class Diverged(RuntimeError):
    """The loss went NaN/inf or the result came out flat black."""


class TargetCache:
    """Style Grams keyed by (pixels digest, shape, layers, pool, device, bf16): a repeat style skips the VGG."""

    def __init__(self, capacity: int = 32):
        self.capacity = capacity
        self.items: OrderedDict = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key):
        if key in self.items:
            self.items.move_to_end(key)
            self.hits += 1
            return self.items[key]
        self.misses += 1
        return None

    def put(self, key, value) -> None:
        self.items[key] = value
        self.items.move_to_end(key)
        while len(self.items) > self.capacity:
            self.items.popitem(last=False)

    def clear(self) -> None:
        self.items.clear()
        self.hits = self.misses = 0


TARGETS = TargetCache()


def gram(f: torch.Tensor) -> torch.Tensor:
    """(1, C, H, W) -> (C, C) float32 Gram divided by H*W."""
    _, c, h, w = f.shape
    m = f.float().reshape(c, h * w)
    return m @ m.t() / (h * w)


def tv_loss(x: torch.Tensor) -> torch.Tensor:
    return (x[..., 1:, :] - x[..., :-1, :]).pow(2).mean() + (x[..., :, 1:] - x[..., :, :-1]).pow(2).mean()


# --- colour: luminance-only transfer (Gatys et al. 2016, "Preserving Color in Neural Artistic Style Transfer") --

_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])


def to_yiq(x: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,njhw->nihw", _YIQ.to(x), x)


def from_yiq(x: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,njhw->nihw", torch.linalg.inv(_YIQ).to(x), x)


def luminance(x: torch.Tensor, like: Optional[torch.Tensor] = None) -> torch.Tensor:
    """(1, 3, H, W) -> grey (1, 3, H, W); with `like`, its luminance mean/std are matched to like's."""
    y = to_yiq(x)[:, :1]
    if like is not None:
        ref = to_yiq(like)[:, :1]
        y = (y - y.mean()) / (y.std() + 1e-6) * ref.std() + ref.mean()
    return y.clamp(0, 1).expand(-1, 3, -1, -1).contiguous()


def with_colour_of(x: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """x's luminance with content's chroma (I, Q); content resized to x first."""
    c = images.resize(content, (x.shape[-1], x.shape[-2]))
    yiq = torch.cat([to_yiq(x)[:, :1], to_yiq(c)[:, 1:]], 1)
    return from_yiq(yiq).clamp(0, 1)


# --- checks ----------------------------------------------------------------------------------------------------


def _check(content, styles, style_weights, *, size, steps, content_weight, style_weight, tv_weight, optimizer,
           init, style_scale, schedule, layer_weights, style_layers, content_layers, lr, device) -> list[float]:
    if not styles:
        raise ValueError("at least one style image is needed")
    for name, t in [("content", content)] + [(f"style {i}", s) for i, s in enumerate(styles)]:
        if t.dim() != 4 or t.shape[:2] != (1, 3):
            raise ValueError(f"{name} must be a (1, 3, H, W) tensor, not {tuple(t.shape)}")
        if not torch.isfinite(t).all():
            raise ValueError(f"{name} image holds NaN/inf pixels")
    limit = MAX_SIDE["cuda" if device.type == "cuda" else "cpu"]
    if not isinstance(size, int) or not MIN_SIDE <= size <= limit:
        raise ValueError(f"size must be an integer from {MIN_SIDE} to {limit} px on {device.type.upper()} "
                         f"(max {MAX_SIDE['cpu']} on CPU, {MAX_SIDE['cuda']} on a GPU), not {size!r}")
    if not isinstance(steps, int) or steps < 1 or steps > 10000:
        raise ValueError(f"steps must be an integer from 1 to 10000, not {steps!r}")
    for name, v in (("content_weight", content_weight), ("style_weight", style_weight), ("tv_weight", tv_weight)):
        if not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            raise ValueError(f"{name} must be a finite number >= 0, not {v!r}")
    if content_weight == 0 and style_weight == 0:
        raise ValueError("content_weight and style_weight cannot both be 0")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, not {optimizer!r}")
    if init not in INITS:
        raise ValueError(f"init must be one of {', '.join(INITS)}, not {init!r}")
    if not isinstance(style_scale, (int, float)) or not 0.1 <= style_scale <= 4.0:
        raise ValueError(f"style_scale must be a number from 0.1 to 4.0, not {style_scale!r}")
    if lr is not None and (not math.isfinite(lr) or lr <= 0):
        raise ValueError(f"lr must be a positive number or None, not {lr!r}")
    if not schedule or any(not (0 < s <= 1) or w <= 0 for s, w in schedule) or schedule[-1][0] != 1.0:
        raise ValueError(f"schedule must be (scale, share) pairs with 0 < scale <= 1, share > 0, last scale 1.0; "
                         f"not {schedule!r}")
    check_layers(style_layers)
    check_layers(content_layers)
    if not style_layers or not content_layers:
        raise ValueError("style_layers and content_layers must each name at least one layer")
    if layer_weights is not None and (len(layer_weights) != len(style_layers) or min(layer_weights) < 0):
        raise ValueError(f"layer_weights must be {len(style_layers)} numbers >= 0 (one per style layer)")
    if style_weights is None:
        return [1.0 / len(styles)] * len(styles)
    if len(style_weights) != len(styles):
        raise ValueError(f"style_weights must have one weight per style image ({len(styles)}), "
                         f"not {len(style_weights)}")
    if any(not math.isfinite(w) or w < 0 for w in style_weights) or sum(style_weights) <= 0:
        raise ValueError(f"style_weights must be numbers >= 0 with a positive sum, not {list(style_weights)}")
    total = float(sum(style_weights))
    return [w / total for w in style_weights]


def plan(w: int, h: int, size: int, steps: int, schedule, min_size: int) -> list[tuple[tuple[int, int], int]]:
    """[((w, h), steps)] per stage, coarse to fine. The finest stage is at max(size, min_size); a coarse stage
    that would not be smaller than the next one hands its steps on."""
    work = max(size, min_size, VGG_MIN)
    shares = [s for _, s in schedule]
    counts = [int(steps * s / sum(shares)) for s in shares]
    counts[-1] += steps - sum(counts)  # rounding goes to the final stage
    sides = [max(COARSE_MIN, round(work * scale)) if scale < 1 else work for scale, _ in schedule]
    stages, carry = [], 0
    for i, (side, n) in enumerate(zip(sides, counts)):
        n += carry
        if i + 1 < len(sides) and side >= sides[i + 1]:
            carry = n
            continue
        carry = 0
        if n > 0:
            stages.append((images.fit_size(w, h, side), n))
    return stages


# --- the optimisation ------------------------------------------------------------------------------------------


def _device_of(vgg) -> torch.device:
    return next(vgg.parameters()).device


def _style_targets(vgg, style: torch.Tensor, layers, bf16: bool, cache: Optional[TargetCache]) -> dict:
    dev = _device_of(vgg)
    key = None
    if cache is not None:
        digest = hashlib.sha1(style.detach().cpu().numpy().tobytes()).hexdigest()
        key = (digest, tuple(style.shape), tuple(layers), getattr(vgg, "pool", ""), str(dev), bf16)
        found = cache.get(key)
        if found is not None:
            return found
    with torch.inference_mode(), autocast(dev, bf16):
        feats = vgg(style.to(dev), layers)
        grams = {k: gram(v) for k, v in feats.items()}
    grams = {k: v.clone() for k, v in grams.items()}  # normal tensors, usable by autograd later
    if cache is not None:
        cache.put(key, grams)
    return grams


def _content_targets(vgg, content: torch.Tensor, layers, bf16: bool) -> dict:
    dev = _device_of(vgg)
    with torch.inference_mode(), autocast(dev, bf16):
        feats = {k: v.float() for k, v in vgg(content.to(dev), layers).items()}
    return {k: v.clone() for k, v in feats.items()}


class _Loss:
    """Total loss of an image at one stage; keeps the last parts for progress reports."""

    def __init__(self, vgg, c_targets, s_targets, *, content_weight, style_weight, tv_weight, layer_weights, bf16):
        self.vgg, self.ct, self.st, self.bf16 = vgg, c_targets, s_targets, bf16
        self.cw, self.sw, self.tw = content_weight, style_weight, tv_weight
        total = sum(layer_weights)
        self.lw = dict(zip(s_targets, [w / total for w in layer_weights]))
        self.c_norm = {k: v.pow(2).sum().clamp_min(1e-8) for k, v in c_targets.items()}
        self.s_norm = {k: v.pow(2).sum().clamp_min(1e-8) for k, v in s_targets.items()}
        self.layers = list(dict.fromkeys(list(c_targets) + list(s_targets)))
        self.parts: dict[str, float] = {}

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        with autocast(x.device, self.bf16):
            feats = self.vgg(x, self.layers)
        content = sum((feats[k].float() - t).pow(2).sum() / self.c_norm[k] for k, t in self.ct.items()) / len(self.ct)
        style = sum(self.lw[k] * (gram(feats[k]) - t).pow(2).sum() / self.s_norm[k] for k, t in self.st.items())
        tv = tv_loss(x)
        total = self.cw * content + self.sw * style + self.tw * tv
        self.parts = {k: float(v.detach()) for k, v in
                      (("content", content), ("style", style), ("tv", tv), ("total", total))}
        return total


def _optimiser(name: str, x: torch.Tensor, lr: Optional[float]):
    if name == "lbfgs":  # one function evaluation per step, like the anchors, so steps compare
        return torch.optim.LBFGS([x], lr=lr or 1.0, max_iter=1, history_size=20)
    return torch.optim.Adam([x], lr=lr or 0.02)


def x_unit(x: torch.Tensor, optimizer: str) -> float:
    return x.numel() * FIRST_STEP if optimizer == "lbfgs" else 1.0


def _initial(init: str, content: torch.Tensor, style: torch.Tensor, seed: int) -> torch.Tensor:
    if init == "content":
        return content.clone()
    if init == "style":
        return images.resize(style, (content.shape[-1], content.shape[-2])).clone()
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(content.shape, generator=gen)


def _run(content, styles, weights, *, vgg, size, steps, content_weight, style_weight, tv_weight, content_layers,
         style_layers, layer_weights, optimizer, lr, init, style_scale, seed, preserve_color, schedule, min_size,
         bf16, snapshot_every, on_step, cache) -> Result:
    dev = _device_of(vgg)
    torch.manual_seed(seed)
    out_size = images.fit_size(content.shape[-1], content.shape[-2], size)
    if preserve_color:  # optimise grey images; the content's chroma goes back on at the end
        styles = [luminance(s, like=content) for s in styles]
        base = luminance(content)
    else:
        base = content
    stages = plan(content.shape[-1], content.shape[-2], size, steps, schedule, min_size)
    total = sum(n for _, n in stages)
    lw = list(layer_weights) if layer_weights is not None else [1.0] * len(style_layers)
    x = None
    done = 0
    loss = None

    def finish(t: torch.Tensor) -> torch.Tensor:
        t = t.detach().float().clamp(0, 1).cpu()
        if preserve_color:
            t = with_colour_of(t, content)
        return images.resize(t, out_size)

    for (w, h), n in stages:
        c = images.resize(base, (w, h))
        s_side = max(VGG_MIN, round(max(w, h) * style_scale))
        s_targets = None
        for s, weight in zip(styles, weights):  # blend: the weighted mean of the styles' Grams
            g = _style_targets(vgg, images.resize_long(s, s_side), style_layers, bf16, cache)
            s_targets = {k: weight * v for k, v in g.items()} if s_targets is None else \
                {k: s_targets[k] + weight * v for k, v in g.items()}
        c_targets = _content_targets(vgg, c, content_layers, bf16)
        loss = _Loss(vgg, c_targets, s_targets, content_weight=content_weight, style_weight=style_weight,
                     tv_weight=tv_weight, layer_weights=lw, bf16=bf16)
        start = _initial(init, c, styles[0], seed) if x is None else images.resize(x.cpu(), (w, h))
        # L-BFGS's first step moves the pixels by 1/numel on average (it is g / |g|_1): tiny on real images,
        # and the next few steps creep. Optimising p = x / unit makes that first step move them by FIRST_STEP.
        unit = x_unit(start, optimizer)
        p = (start / unit).to(dev).requires_grad_(True)
        opt = _optimiser(optimizer, p, lr)

        best = [math.inf, None]  # lowest loss seen and its pixels: L-BFGS without a line search can spike

        def closure():
            opt.zero_grad(set_to_none=True)
            value = loss(p * unit)
            if not torch.isfinite(value):
                raise Diverged(f"loss became {float(value.detach())} at step {done + 1}")
            if float(value.detach()) < best[0]:
                best[:] = float(value.detach()), p.detach().clone()
            value.backward()
            return value

        for _ in range(n):
            opt.step(closure)
            if not torch.isfinite(p).all():
                raise Diverged(f"image became NaN/inf at step {done + 1}")
            if optimizer == "adam":
                with torch.no_grad():
                    p.clamp_(0, 1)
            done += 1
            if on_step is not None:
                snap = snapshot_every and (done % snapshot_every == 0 or done == total)
                on_step(Step(done, total, dict(loss.parts), finish(p.detach() * unit) if snap else None,
                             max(w, h)))
        with torch.no_grad():  # the last step's result was never scored: one forward pass to compare
            last = float(loss(p * unit))
        x = p.detach() * unit if last <= best[0] or not math.isfinite(best[0]) else best[1] * unit
    image = finish(x)
    if image.max() < 0.02 and content.mean() > 0.05:
        raise Diverged("the result came out flat black")
    return Result(image, dict(loss.parts), 0, stages[-1][0])


def stylize(
    content: torch.Tensor,
    styles: Sequence[torch.Tensor],
    *,
    vgg,
    style_weights: Optional[Sequence[float]] = None,
    size: int = 512,
    steps: int = 100,
    content_weight: float = 1.0,
    style_weight: float = 10.0,
    tv_weight: float = 10.0,
    content_layers: Sequence[str] = CONTENT_LAYERS,
    style_layers: Sequence[str] = STYLE_LAYERS,
    layer_weights: Optional[Sequence[float]] = None,
    optimizer: str = "lbfgs",
    lr: Optional[float] = None,
    init: str = "content",
    style_scale: float = 1.0,
    seed: int = 0,
    preserve_color: bool = False,
    schedule: Sequence[tuple[float, float]] = ((0.5, 0.8), (1.0, 0.2)),
    min_size: int = 128,
    bf16: bool = True,
    snapshot_every: int = 0,
    on_step: Optional[OnStep] = None,
    cache: Optional[TargetCache] = TARGETS,
) -> Result:
    """Stylise `content` (1, 3, H, W) RGB 0..1 with `styles` (each (1, 3, h, w)); output long side = `size`.

    vgg: a worker.core.vgg.VGG19 on the device to use. style_weights: blend weights (normalised; default equal).
    steps: optimiser steps over all stages; schedule: (scale of `size`, share of steps) per stage, coarse to fine.
    style_scale: the style images' long side relative to the stage's long side. snapshot_every: put the current
    image (at output size) into every Nth Step. on_step may raise (e.g. to cancel) and the exception propagates.
    """
    dev = _device_of(vgg)
    weights = _check(content, styles, style_weights, size=size, steps=steps, content_weight=content_weight,
                     style_weight=style_weight, tv_weight=tv_weight, optimizer=optimizer, init=init,
                     style_scale=style_scale, schedule=schedule, layer_weights=layer_weights,
                     style_layers=style_layers, content_layers=content_layers, lr=lr, device=dev)
    kw = dict(vgg=vgg, size=size, steps=steps, content_weight=content_weight, style_weight=style_weight,
              tv_weight=tv_weight, content_layers=tuple(content_layers), style_layers=tuple(style_layers),
              layer_weights=layer_weights, optimizer=optimizer, lr=lr, init=init, style_scale=style_scale,
              seed=seed, preserve_color=preserve_color, schedule=tuple(schedule), min_size=min_size, bf16=bf16,
              snapshot_every=snapshot_every, on_step=on_step, cache=cache)
    content, styles = content.float().cpu(), [s.float().cpu() for s in styles]
    try:
        return _run(content, styles, weights, **kw)
    except Diverged as first:
        # Safer second try: float32 VGG, start from the content, Adam (bounded steps, pixels clamped each step).
        kw.update(bf16=False, init="content", optimizer="adam", lr=None)
        try:
            result = _run(content, styles, weights, **kw)
        except Diverged as second:
            raise RuntimeError(f"style transfer failed twice: {first}; then with safer settings: {second}. "
                               "Try a lower style_weight or fewer steps.") from None
        result.restarts = 1
        return result


_OPTIONS = ("size", "steps", "content_weight", "style_weight", "tv_weight", "content_layers", "style_layers",
            "layer_weights", "optimizer", "lr", "init", "style_scale", "seed", "preserve_color", "schedule",
            "min_size", "bf16", "snapshot_every")


def defaults() -> dict:
    """The effective defaults of `stylize`'s options, read from its signature."""
    params = inspect.signature(stylize).parameters
    return {k: params[k].default for k in _OPTIONS}
