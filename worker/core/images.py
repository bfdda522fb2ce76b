"""Tensor <-> PIL conversions and resizing. In-memory only: no file I/O."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def to_tensor(img: Image.Image) -> torch.Tensor:
    """PIL image -> (1, 3, H, W) float32 in 0..1."""
    arr = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0  # (H, W, 3)
    return torch.from_numpy(arr).permute(2, 0, 1).unsqueeze(0).contiguous()


def to_image(t: torch.Tensor) -> Image.Image:
    """(1, 3, H, W) or (3, H, W) tensor in 0..1 -> PIL RGB image (clamped)."""
    if t.dim() == 4:
        t = t[0]
    arr = (t.detach().float().clamp(0, 1) * 255.0).round().byte().permute(1, 2, 0).cpu().numpy()
    return Image.fromarray(arr, "RGB")


def fit_size(w: int, h: int, long_side: int, multiple: int = 1) -> tuple[int, int]:
    """(w, h) scaled so the long side is `long_side`, each side rounded to a multiple of `multiple`."""
    if long_side < 1:
        raise ValueError(f"size must be a positive number of pixels, not {long_side}")
    scale = long_side / max(w, h)
    nw = max(multiple, round(w * scale / multiple) * multiple)
    nh = max(multiple, round(h * scale / multiple) * multiple)
    return nw, nh


def resize(t: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resize (N, C, H, W) to (w, h) = size; antialiased when shrinking, bicubic when growing."""
    w, h = size
    if (t.shape[-1], t.shape[-2]) == (w, h):
        return t
    shrinking = w < t.shape[-1] or h < t.shape[-2]
    return F.interpolate(t, size=(h, w), mode="bicubic", align_corners=False, antialias=shrinking).clamp(0, 1)


def resize_long(t: torch.Tensor, long_side: int, multiple: int = 1) -> torch.Tensor:
    return resize(t, fit_size(t.shape[-1], t.shape[-2], long_side, multiple))
