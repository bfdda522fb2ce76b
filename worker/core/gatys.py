"""Gatys et al. neural style transfer: optimise an image so its VGG-19 features match a content image (relu4_2)
and its Gram matrices match one or more style images (relu1_1..relu5_1), plus a total-variation smoothness term.

Pure: tensors in, tensors out, no file I/O. One `GatysOptions` holds every knob of a run; the ones a client can
set take their defaults and ranges from the request contract (worker/params.py `Gatys`), the rest are the core's
own, and `defaults()` reads them back. Losses are normalised so the weights mean something:
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

import dataclasses
import hashlib
import math
import sys
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import torch

from worker import params
from worker.core import images
from worker.core.vgg import check_layers
from worker.device import autocast

OPTIMIZERS = ("lbfgs", "adam")
INITS = params.INITS
CONTENT_LAYERS = ("relu4_2",)
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
MAX_SIDE = {dev: limits["gatys"] for dev, limits in params.ENGINE_MAX_SIZE.items()}
MIN_SIDE = params.MIN_SIZE["gatys"]
MAX_STEPS = 10000  # a direct call's sanity cap; the API's is params.MAX_STEPS
COARSE_MIN = 64  # a coarse stage never goes below this long side (relu5_1 would be a few pixels)
FIRST_STEP = 0.03  # mean pixel change of L-BFGS's first step (see _run)
VGG_MIN = 32  # no image goes through the VGG smaller than this long side (relu5_1 sits at 1/16 size)


def _contract(name: str):
    """The request contract's default for a Gatys option (worker/params.py)."""
    return params.Gatys.model_fields[name].default


def _range(name: str) -> tuple[float, float]:
    """The request contract's (ge, le) bounds of a Gatys option."""
    meta = params.Gatys.model_fields[name].metadata
    return next(m.ge for m in meta if hasattr(m, "ge")), next(m.le for m in meta if hasattr(m, "le"))


@dataclass(frozen=True)
class GatysOptions:
    """Every knob of one run. The client-facing ones default to the request contract's values."""
    size: int = _contract("size")  # output long side, px
    steps: int = _contract("steps")  # optimiser steps over all stages
    content_weight: float = _contract("content_weight")
    style_weight: float = _contract("style_weight")
    tv_weight: float = _contract("tv_weight")
    init: str = _contract("init")
    style_scale: float = _contract("style_scale")  # style images' long side relative to the stage's
    seed: int = 0  # fixed here so a direct call repeats (the API draws a random one per job)
    preserve_color: bool = _contract("preserve_color")
    content_layers: tuple[str, ...] = CONTENT_LAYERS
    style_layers: tuple[str, ...] = STYLE_LAYERS
    layer_weights: Optional[tuple[float, ...]] = None  # per style layer (default equal)
    optimizer: str = "lbfgs"
    lr: Optional[float] = None  # None: the optimiser's own (see _optimiser)
    schedule: tuple[tuple[float, float], ...] = ((0.5, 0.8), (1.0, 0.2))  # (scale of size, share of steps)
    min_size: int = 128  # the finest stage's least long side: tiny inputs still meet a useful VGG
    bf16: bool = True  # autocast the VGG where the device has fast bf16

    def __post_init__(self):  # lists from a caller become tuples: the options stay hashable and immutable
        for name in ("content_layers", "style_layers", "layer_weights", "schedule"):
            v = getattr(self, name)
            if v is not None and not isinstance(v, tuple):
                object.__setattr__(self, name, tuple(tuple(x) if isinstance(x, list) else x for x in v))

    def check(self, device: torch.device) -> None:
        """ValueError naming the allowed values of the first bad option."""
        limit = MAX_SIDE["cuda" if device.type == "cuda" else "cpu"]
        if not isinstance(self.size, int) or not MIN_SIDE <= self.size <= limit:
            raise ValueError(f"size must be an integer from {MIN_SIDE} to {limit} px on {device.type.upper()} "
                             f"(max {MAX_SIDE['cpu']} on CPU, {MAX_SIDE['cuda']} on a GPU), not {self.size!r}")
        if not isinstance(self.steps, int) or not 1 <= self.steps <= MAX_STEPS:
            raise ValueError(f"steps must be an integer from 1 to {MAX_STEPS}, not {self.steps!r}")
        for name in ("content_weight", "style_weight", "tv_weight"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise ValueError(f"{name} must be a finite number >= 0, not {v!r}")
        if self.content_weight == 0 and self.style_weight == 0:
            raise ValueError("content_weight and style_weight cannot both be 0")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, not {self.optimizer!r}")
        if self.init not in INITS:
            raise ValueError(f"init must be one of {', '.join(INITS)}, not {self.init!r}")
        lo, hi = _range("style_scale")
        if not isinstance(self.style_scale, (int, float)) or not lo <= self.style_scale <= hi:
            raise ValueError(f"style_scale must be a number from {lo} to {hi}, not {self.style_scale!r}")
        if self.lr is not None and (not math.isfinite(self.lr) or self.lr <= 0):
            raise ValueError(f"lr must be a positive number or None, not {self.lr!r}")
        sched = self.schedule
        if not sched or any(not (0 < s <= 1) or w <= 0 for s, w in sched) or sched[-1][0] != 1.0:
            raise ValueError(f"schedule must be (scale, share) pairs with 0 < scale <= 1, share > 0, last scale "
                             f"1.0; not {sched!r}")
        check_layers(self.style_layers)
        check_layers(self.content_layers)
        if not self.style_layers or not self.content_layers:
            raise ValueError("style_layers and content_layers must each name at least one layer")
        lw = self.layer_weights
        if lw is not None and (len(lw) != len(self.style_layers) or min(lw) < 0):
            raise ValueError(f"layer_weights must be {len(self.style_layers)} numbers >= 0 (one per style layer)")


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


def _check(content, styles, style_weights) -> list[float]:
    """The images and the style blend; returns the normalised style weights."""
    if not styles:
        raise ValueError("at least one style image is needed")
    for name, t in [("content", content)] + [(f"style {i}", s) for i, s in enumerate(styles)]:
        if t.dim() != 4 or t.shape[:2] != (1, 3):
            raise ValueError(f"{name} must be a (1, 3, H, W) tensor, not {tuple(t.shape)}")
        if not torch.isfinite(t).all():
            raise ValueError(f"{name} image holds NaN/inf pixels")
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

    def __init__(self, vgg, c_targets, s_targets, *, content_weight, style_weight, tv_weight, layer_weights, bf16,
                 content_mask=None):
        self.vgg, self.ct, self.st, self.bf16 = vgg, c_targets, s_targets, bf16
        self.cm = content_mask  # (1, 1, H, W) per-pixel content weight, or None (1 everywhere)
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
        content = sum(self._weigh((feats[k].float() - t).pow(2)).sum() / self.c_norm[k]
                      for k, t in self.ct.items()) / len(self.ct)
        style = sum(self.lw[k] * (gram(feats[k]) - t).pow(2).sum() / self.s_norm[k] for k, t in self.st.items())
        tv = tv_loss(x)
        total = self.cw * content + self.sw * style + self.tw * tv
        self.parts = {k: float(v.detach()) for k, v in
                      (("content", content), ("style", style), ("tv", tv), ("total", total))}
        return total

    def _weigh(self, d: torch.Tensor) -> torch.Tensor:
        if self.cm is None:
            return d
        return d * torch.nn.functional.interpolate(self.cm.to(d.device), size=d.shape[-2:], mode="area")


def _eager_optimisers() -> None:
    """torch.optim wraps Optimizer.add_param_group and zero_grad in torch._disable_dynamo, whose first call imports
    torch._dynamo: ~1 s of a ~4 s CLI run (as long as torch's own import), for a compiler nothing here uses. Mark
    them as already wrapped (the attribute that wrapper caches) so they run as plain eager functions."""
    for method in (torch.optim.Optimizer.add_param_group, torch.optim.Optimizer.zero_grad):
        inner = getattr(method, "__wrapped__", None)
        if inner is not None and "torch._dynamo" not in sys.modules:
            setattr(inner, "__dynamo_disable", getattr(inner, "__dynamo_disable", inner))


def _optimiser(name: str, x: torch.Tensor, lr: Optional[float]):
    _eager_optimisers()
    if name == "lbfgs":  # one function evaluation per step, like the anchors, so steps compare
        return torch.optim.LBFGS([x], lr=lr or 1.0, max_iter=1, history_size=20)
    return torch.optim.Adam([x], lr=lr or 0.02)


def x_unit(x: torch.Tensor, optimizer: str) -> float:
    return x.numel() * FIRST_STEP if optimizer == "lbfgs" else 1.0


def _initial(init: str, content: torch.Tensor, style: torch.Tensor, seed: int) -> torch.Tensor:
    if init in ("content", "fast"):  # "fast" without the engine's picture (see stylize)
        return content.clone()
    if init == "style":
        return images.resize(style, (content.shape[-1], content.shape[-2])).clone()
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(content.shape, generator=gen)


def _run(content, styles, weights, o: GatysOptions, *, vgg, snapshot_every, on_step, cache,
         init_image=None, content_mask=None) -> Result:
    dev = _device_of(vgg)
    torch.manual_seed(o.seed)
    preserve_color, optimizer, bf16 = o.preserve_color, o.optimizer, o.bf16
    out_size = images.fit_size(content.shape[-1], content.shape[-2], o.size)
    if preserve_color:  # optimise grey images; the content's chroma goes back on at the end
        styles = [luminance(s, like=content) for s in styles]
        base = luminance(content)
    else:
        base = content
    stages = plan(content.shape[-1], content.shape[-2], o.size, o.steps, o.schedule, o.min_size)
    total = sum(n for _, n in stages)
    lw = list(o.layer_weights) if o.layer_weights is not None else [1.0] * len(o.style_layers)
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
        s_side = max(VGG_MIN, round(max(w, h) * o.style_scale))
        s_targets = None
        for s, weight in zip(styles, weights):  # blend: the weighted mean of the styles' Grams
            g = _style_targets(vgg, images.resize_long(s, s_side), o.style_layers, bf16, cache)
            s_targets = {k: weight * v for k, v in g.items()} if s_targets is None else \
                {k: s_targets[k] + weight * v for k, v in g.items()}
        c_targets = _content_targets(vgg, c, o.content_layers, bf16)
        loss = _Loss(vgg, c_targets, s_targets, content_weight=o.content_weight, style_weight=o.style_weight,
                     tv_weight=o.tv_weight, layer_weights=lw, bf16=bf16, content_mask=content_mask)
        if x is not None:
            start = images.resize(x.cpu(), (w, h))
        elif init_image is not None:  # e.g. the fast network's answer (worker.engines.gatys, init="fast")
            start = images.resize(luminance(init_image) if preserve_color else init_image, (w, h))
        else:
            start = _initial(o.init, c, styles[0], o.seed)
        # L-BFGS's first step moves the pixels by 1/numel on average (it is g / |g|_1): tiny on real images,
        # and the next few steps creep. Optimising p = x / unit makes that first step move them by FIRST_STEP.
        unit = x_unit(start, optimizer)
        p = (start / unit).to(dev).requires_grad_(True)
        opt = _optimiser(optimizer, p, o.lr)

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


def stylize(content: torch.Tensor, styles: Sequence[torch.Tensor], *, vgg, options: Optional[GatysOptions] = None,
            style_weights: Optional[Sequence[float]] = None, snapshot_every: int = 0, on_step: Optional[OnStep] = None,
            cache: Optional[TargetCache] = TARGETS, init_image: Optional[torch.Tensor] = None,
            content_mask: Optional[torch.Tensor] = None, **overrides) -> Result:
    """Stylise `content` (1, 3, H, W) RGB 0..1 with `styles` (each (1, 3, h, w)); output long side = options.size.

    vgg: a worker.core.vgg.VGG19 on the device to use. options: a GatysOptions (default: its defaults); keyword
    overrides replace single fields of it (`stylize(c, [s], vgg=net, steps=50)`). style_weights: blend weights
    (normalised; default equal). snapshot_every: put the current image (at output size) into every Nth Step.
    on_step may raise (e.g. to cancel) and the exception propagates.
    init_image: (1, 3, h, w) 0..1 to start from instead of `init` (resized to each first stage). init="fast" means
    the fast network's picture, which the core cannot paint: worker.engines.gatys passes it as init_image; a
    direct call without one starts from the content.
    content_mask: (1, 1, h, w) per-pixel content weight >= 0 (times content_weight; resized to each layer), e.g.
    higher on a face so the painting keeps it (worker.engines.portrait).
    """
    dev = _device_of(vgg)
    o = dataclasses.replace(options or GatysOptions(), **overrides)  # TypeError names an unknown option
    o.check(dev)
    weights = _check(content, styles, style_weights)
    kw = dict(vgg=vgg, snapshot_every=snapshot_every, on_step=on_step, cache=cache)
    if content_mask is not None:
        if content_mask.dim() != 4 or content_mask.shape[:2] != (1, 1) or not torch.isfinite(content_mask).all() \
                or content_mask.min() < 0:
            raise ValueError(f"content_mask must be a finite (1, 1, H, W) tensor >= 0, not {tuple(content_mask.shape)}")
        kw["content_mask"] = content_mask.float().cpu()
    content, styles = content.float().cpu(), [s.float().cpu() for s in styles]
    if init_image is not None:
        if init_image.dim() != 4 or init_image.shape[:2] != (1, 3) or not torch.isfinite(init_image).all():
            raise ValueError(f"init_image must be a finite (1, 3, H, W) tensor, not {tuple(init_image.shape)}")
        kw["init_image"] = init_image.float().cpu().clamp(0, 1)
    try:
        return _run(content, styles, weights, o, **kw)
    except Diverged as first:
        # Safer second try: float32 VGG, start from the content, Adam (bounded steps, pixels clamped each step).
        safer = dataclasses.replace(o, bf16=False, init="content", optimizer="adam", lr=None)
        kw.update(init_image=None)
        try:
            result = _run(content, styles, weights, safer, **kw)
        except Diverged as second:
            raise RuntimeError(f"style transfer failed twice: {first}; then with safer settings: {second}. "
                               "Try a lower style_weight or fewer steps.") from None
        result.restarts = 1
        return result


def defaults() -> dict:
    """The effective defaults of every option (GatysOptions' fields)."""
    return dataclasses.asdict(GatysOptions())
