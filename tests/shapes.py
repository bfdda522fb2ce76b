"""Tiny generated training data for the training tests: coloured shapes on plain backgrounds, and paired
edges -> fills (side by side) for pix2pix. Deterministic by seed; no files from outside the repo."""
from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch
from PIL import Image, ImageDraw

SHAPES = ("ellipse", "rectangle", "triangle")


def _shape(rng: random.Random, size: int):
    kind = rng.choice(SHAPES)
    x0, y0 = rng.randint(0, size // 2), rng.randint(0, size // 2)
    x1, y1 = rng.randint(x0 + size // 4, size - 1), rng.randint(y0 + size // 4, size - 1)
    box = (x0, y0, x1, y1)
    points = [(x0, y1), ((x0 + x1) // 2, y0), (x1, y1)]
    return kind, box, points


def _colour(rng: random.Random) -> tuple[int, int, int]:
    return rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255)


def _draw(draw, kind, box, points, **kw):
    if kind == "triangle":
        draw.polygon(points, **kw)
    else:
        getattr(draw, kind)(box, **kw)


def shape_image(rng: random.Random, size: int = 32) -> Image.Image:
    img = Image.new("RGB", (size, size), _colour(rng))
    kind, box, points = _shape(rng, size)
    _draw(ImageDraw.Draw(img), kind, box, points, fill=_colour(rng))
    return img


def edges_fill_pair(rng: random.Random, size: int = 32) -> Image.Image:
    """(2*size) x size: a black outline on white (left) | the same shape filled with colour (right)."""
    kind, box, points = _shape(rng, size)
    edges, fill = Image.new("RGB", (size, size), "white"), Image.new("RGB", (size, size), "white")
    _draw(ImageDraw.Draw(edges), kind, box, points, outline=(0, 0, 0))
    _draw(ImageDraw.Draw(fill), kind, box, points, fill=_colour(rng), outline=(0, 0, 0))
    pair = Image.new("RGB", (2 * size, size))
    pair.paste(edges, (0, 0))
    pair.paste(fill, (size, 0))
    return pair


def write_shapes(folder: Path, n: int = 200, size: int = 32, seed: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    for i in range(n):
        shape_image(rng, size).save(folder / f"{i:04d}.png")
    return folder


def write_pairs(folder: Path, n: int = 40, size: int = 32, seed: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    for i in range(n):
        edges_fill_pair(rng, size).save(folder / f"{i:04d}.png")
    return folder


@pytest.fixture(autouse=True, scope="module")
def single_thread():
    """Tiny tensors gain nothing from threads, and on a busy shared CPU two spinning OpenMP threads made one
    tiny training step take seconds instead of ~0.2 s: one thread for the training tests' modules."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
