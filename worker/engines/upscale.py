"""Print-size upscaling with Real-ESRGAN x4plus (worker/core/rrdbnet.py): PIL in, PIL out, x1, x2 or x4.

Tiled so memory stays bounded at any size: the picture is cut into tiles that overlap by OVERLAP source pixels;
each tile is run with CONTEXT more pixels of real picture around it (cropped off after the network, so no tile
shows its own zero-padded border), and neighbours are cross-faded over the overlap with linear ramps that sum to
one, so no seam can show. Output rows are finished strip by strip: only one strip of float accumulators lives at a
time, next to the 8-bit result. x2 is the x4 output averaged over 2x2 blocks (exact, and strip-local).

CUDA: fp16 autocast, bigger tiles. CPU: float32, or bf16 autocast where the chip has native bf16 dot products
(measured: see bench/upscale.py and the constants below).
"""
from __future__ import annotations

import math
import threading
from typing import Optional

import numpy as np
import torch
from PIL import Image

from worker import device as devices
from worker import models
from worker.core.rrdbnet import SCALE, RRDBNet
from worker.engines import Canceled, OnProgress, Progress, ShouldCancel
from worker.params import MAX_OUTPUT  # the result's long side (input long side x factor)

FACTORS = (1, 2, 4)
TILE = {"cpu": 192, "cuda": 512}  # source pixels per tile side, overlap included
OVERLAP, CONTEXT = 8, 12  # source pixels: cross-faded between tiles; extra picture seen and cropped off
CPU_BF16 = True  # measured on this box's AVX512-BF16 CPU: faster than float32 and close (bench/upscale.py)

_NETS: dict[str, RRDBNet] = {}
_LOCK = threading.Lock()


def net(dev: torch.device) -> RRDBNet:
    """The network on `dev`, loaded from the model cache once per process."""
    with _LOCK:
        if str(dev) not in _NETS:
            tensors, config = models.load("realesrgan_x4plus")
            module = RRDBNet(config["blocks"], config["nf"], config["gc"])
            module.load_state_dict(tensors)
            _NETS[str(dev)] = module.eval().requires_grad_(False).to(dev, memory_format=torch.channels_last)
        return _NETS[str(dev)]


def _autocast(dev: torch.device):
    if dev.type == "cuda":
        return torch.autocast("cuda", dtype=torch.float16)
    return devices.autocast(dev, enabled=CPU_BF16)  # a no-op where bf16 would be emulated


def check(size: tuple[int, int], factor: int) -> None:
    """ValueError naming the allowed factors or the output limit."""
    if isinstance(factor, bool) or factor not in FACTORS:
        raise ValueError(f"upscale must be one of {', '.join(map(str, FACTORS))}, not {factor!r}")
    if max(size) * factor > MAX_OUTPUT:
        raise ValueError(f"upscale {factor} of a {size[0]}x{size[1]} picture would be {max(size) * factor} px "
                         f"on its long side; the limit is {MAX_OUTPUT} px (size x upscale)")


def spans(length: int, tile: int, overlap: int = OVERLAP) -> list[tuple[int, int]]:
    """[start, end) of tiles covering 0..length, each at most `tile` long, neighbours overlapping >= `overlap`."""
    if length <= tile:
        return [(0, length)]
    n = math.ceil((length - overlap) / (tile - overlap))
    starts = [round(i * (length - tile) / (n - 1)) for i in range(n)]
    return [(s, s + tile) for s in starts]


def ramps(spans_: list[tuple[int, int]], scale: int) -> list[np.ndarray]:
    """Per span, its output-pixel weights: 1 inside, linear ramps across each overlap; neighbours sum to 1."""
    out = []
    for i, (s, e) in enumerate(spans_):
        w = np.ones((e - s) * scale, np.float32)
        if i > 0:  # fade in over the overlap with the previous span
            m = (spans_[i - 1][1] - s) * scale
            w[:m] = (np.arange(m) + 0.5) / m
        if i + 1 < len(spans_):  # fade out over the overlap with the next one
            m = (e - spans_[i + 1][0]) * scale
            w[len(w) - m:] = (m - np.arange(m) - 0.5) / m
        out.append(w)
    return out


def _infer(module: RRDBNet, x: torch.Tensor) -> np.ndarray:
    """(1, 3, h, w) 0..1 -> (4h, 4w, 3) float32 0..1 on the CPU."""
    with torch.inference_mode(), _autocast(x.device):
        y = module(x.contiguous(memory_format=torch.channels_last))
    return y[0].float().clamp_(0, 1).permute(1, 2, 0).cpu().numpy()


def run(img: Image.Image, factor: int = 4, *, on_progress: Optional[OnProgress] = None,
        should_cancel: Optional[ShouldCancel] = None, device: str = "auto", tile: Optional[int] = None) -> Image.Image:
    """`img` enlarged `factor` times (1: unchanged); long side of the result at most MAX_OUTPUT."""
    check(img.size, factor)
    img = img.convert("RGB")
    if factor == 1:
        return img.copy()
    dev = devices.pick(device)
    tile = tile or TILE[dev.type]
    if tile < 2 * OVERLAP + 1:
        raise ValueError(f"tile must be more than {2 * OVERLAP} px")
    module = net(dev)
    src = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1)[None]  # (1, 3, H, W)
    H, W = src.shape[-2:]
    ys, xs = spans(H, tile), spans(W, tile)
    wy, wx = ramps(ys, SCALE), ramps(xs, SCALE)
    shrink = SCALE // factor  # 1 for x4, 2 for x2 (2x2 block means)
    out = np.empty((H * SCALE // shrink, W * SCALE // shrink, 3), np.uint8)
    total, step = len(ys) * len(xs), 0
    band, band_y = None, 0  # float accumulator for output rows [band_y, band_y + len(band))

    def finish(rows: np.ndarray, y: int) -> None:  # rows of x4 output starting at row y -> out
        if shrink > 1:
            rows = rows.reshape(rows.shape[0] // shrink, shrink, -1, shrink, 3).mean(axis=(1, 3))
            y //= shrink
        out[y:y + rows.shape[0]] = (rows * 255 + 0.5).astype(np.uint8)

    for (y0, y1), ry in zip(ys, wy):
        new = np.zeros(((y1 - y0) * SCALE, W * SCALE, 3), np.float32)
        if band is not None:  # rows shared with the previous strip carry over; the ones above are final
            keep = band_y + len(band) - y0 * SCALE
            new[:keep] = band[len(band) - keep:]
            finish(band[:len(band) - keep], band_y)
        for (x0, x1), rx in zip(xs, wx):
            if should_cancel is not None and should_cancel():
                raise Canceled()
            cy0, cy1, cx0, cx1 = max(0, y0 - CONTEXT), min(H, y1 + CONTEXT), max(0, x0 - CONTEXT), min(W, x1 + CONTEXT)
            y = _infer(module, src[..., cy0:cy1, cx0:cx1].to(dev))
            y = y[(y0 - cy0) * SCALE:(y1 - cy0) * SCALE, (x0 - cx0) * SCALE:(x1 - cx0) * SCALE]
            new[:, x0 * SCALE:x1 * SCALE] += y * (ry[:, None, None] * rx[None, :, None])
            step += 1
            if on_progress is not None:
                on_progress(Progress(step, total))
        band, band_y = new, y0 * SCALE
    finish(band, band_y)
    return Image.fromarray(out, "RGB")


def enlarge(img: Image.Image, factor: int = 4, device: str = "auto") -> Image.Image:
    """`img` x2 or x4 with Real-ESRGAN, for callers inside an engine (the GAN portrait's 64 px face)."""
    return run(img, factor, device=device)
