"""Training data: a folder of images (any depth) read once into a uint8 tensor, random crops and flips per batch,
and side-by-side pairs (input | target) for pix2pix. No torchvision.

Everything is preloaded at a small load size: 10,000 images at 64 px take 120 MB, 1,000 at 286 px 245 MB, so a
batch is one index into a tensor (on the GPU when there is one) instead of a decode per image per epoch.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

EXTS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff")
MIN_IMAGES = 2


def list_images(root: str | Path) -> list[Path]:
    """Image files under root (recursive, sorted), or ValueError saying what was expected."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"{root} is not a directory; give a folder of images ({', '.join(EXTS)})")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in EXTS and p.is_file())
    if len(files) < MIN_IMAGES:
        raise ValueError(f"{root} holds {len(files)} images; need at least {MIN_IMAGES} ({', '.join(EXTS)})")
    return files


def open_rgb(path: Path) -> Image.Image | None:
    """The image upright and RGB, or None (with a warning) when it cannot be read."""
    try:
        with Image.open(path) as img:
            return ImageOps.exif_transpose(img).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        print(f"warning: skipping {path}: {e}", file=sys.stderr)
        return None


def square(img: Image.Image, size: int) -> Image.Image:
    """Short side scaled to size, then the centre square."""
    return ImageOps.fit(img, (size, size), Image.Resampling.BICUBIC)


def to_uint8(img: Image.Image) -> torch.Tensor:
    return torch.from_numpy(np.asarray(img, dtype=np.uint8).copy()).permute(2, 0, 1)  # (3, H, W)


def load_folder(root: str | Path, size: int, limit: int | None = None) -> torch.Tensor:
    """(N, 3, size, size) uint8: every readable image, centre-cropped square."""
    out = [to_uint8(square(img, size)) for p in list_images(root)[:limit] if (img := open_rgb(p)) is not None]
    if len(out) < MIN_IMAGES:
        raise ValueError(f"{root}: only {len(out)} readable images; need at least {MIN_IMAGES}")
    return torch.stack(out)


def split_pair(img: Image.Image) -> tuple[Image.Image, Image.Image]:
    """A side-by-side pair (the pix2pix dataset format): left half -> input, right half -> target."""
    w, h = img.size
    if w < 2 or w < h:
        raise ValueError(f"a pair image must be two images side by side (width >= height), not {w}x{h}")
    half = w // 2
    return img.crop((0, 0, half, h)), img.crop((half, 0, 2 * half, h))


def load_pairs(root: str | Path, size: int, limit: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(A, B), each (N, 3, size, size) uint8, from side-by-side pair images (each half resized to a square, as
    the official aligned dataset does)."""
    a, b = [], []
    for path in list_images(root)[:limit]:
        img = open_rgb(path)
        if img is None:
            continue
        try:
            left, right = split_pair(img)
        except ValueError as e:
            print(f"warning: skipping {path}: {e}", file=sys.stderr)
            continue
        a.append(to_uint8(left.resize((size, size), Image.Resampling.BICUBIC)))
        b.append(to_uint8(right.resize((size, size), Image.Resampling.BICUBIC)))
    if len(a) < MIN_IMAGES:
        raise ValueError(f"{root}: only {len(a)} usable side-by-side pairs; need at least {MIN_IMAGES}")
    return torch.stack(a), torch.stack(b)


def load_size(size: int) -> int:
    """The official recipe loads at 286 and crops 256 (jitter); the same ratio at other sizes."""
    return size if size < 64 else round(size * 286 / 256)


def to_float(batch: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 3, H, W) -> float (N, 3, H, W) in [-1, 1]."""
    return batch.float().div_(127.5).sub_(1.0)


def to_uint8_images(batch: torch.Tensor) -> torch.Tensor:
    """float [-1, 1] -> uint8 (N, 3, H, W) on the CPU."""
    return ((batch.detach().float().clamp(-1, 1) + 1) * 127.5).round().byte().cpu()


def augment(*batches: torch.Tensor, size: int, gen: torch.Generator) -> list[torch.Tensor]:
    """The same random crop (size x size) and horizontal flip per sample across the given aligned batches."""
    n, _, h, w = batches[0].shape
    ys = torch.randint(0, h - size + 1, (n,), generator=gen).tolist()
    xs = torch.randint(0, w - size + 1, (n,), generator=gen).tolist()
    flips = (torch.rand(n, generator=gen) < 0.5).tolist()
    out = []
    for b in batches:
        crops = [b[i, :, y:y + size, x:x + size] for i, (y, x) in enumerate(zip(ys, xs))]
        out.append(torch.stack([c.flip(-1) if f else c for c, f in zip(crops, flips)]))
    return out
