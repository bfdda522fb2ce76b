"""The 26 presets on the sample photos: id, name, default strength, content distance at default and at strength 1.

    .venv/bin/python bench/presets.py [--size 512] [--choose] [--out /tmp/presets]

content distance = ||F(out)-F(photo)||^2 / ||F(photo)||^2 at relu4_2 of the original VGG-19 (max pooling), the
definition of bench/gatys_vs_pastiche.py (its Judge). Goal: every preset <= 1.5 on every photo at its default
strength (worker/presets.py) and the fast engine's default size. `--choose` also searches, per preset, the largest
strength on a 0.05 grid that meets the goal on every photo: how the defaults in worker/presets.py were picked.
`--out` keeps each preset's picture at its default strength. Needs the model cache and ../shared/images.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.gatys_vs_pastiche import CONTENT_LAYER, IMAGES, Judge  # noqa: E402

PHOTOS = ("chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg")
GOAL = 1.5
GRID = 20  # strength steps of 1/20


def content_distance(judge: Judge, out, photo, cache: dict | None = None) -> float:
    """The Gatys benchmark's content distance of `out` from `photo` (scaled to out's size); `cache` keeps the
    photo's features between calls."""
    from PIL import Image

    fo = judge.feats(out, (CONTENT_LAYER,))[CONTENT_LAYER]
    key = (id(photo), out.size)
    if cache is None or key not in cache:
        fc = judge.feats(photo.resize(out.size, Image.LANCZOS), (CONTENT_LAYER,))[CONTENT_LAYER]
        if cache is None:
            return float((fo - fc).pow(2).sum() / fc.pow(2).sum())
        cache[key] = fc
    fc = cache[key]
    return float((fo - fc).pow(2).sum() / fc.pow(2).sum())


def largest_strength(distance, names, start: int = GRID) -> float:
    """The largest k/GRID <= start/GRID with distance(name, k/GRID) <= GOAL for every name (distance grows with
    strength): bisection on the first photo over the goal, then the others are checked below that bound."""
    hi = start
    for name in names:
        if distance(name, hi / GRID) <= GOAL:
            continue
        lo = 0  # strength 0 is the photo itself: distance 0
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if distance(name, mid / GRID) <= GOAL else (lo, mid)
        hi = lo
    return hi / GRID


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=512, help="long side in px (the fast engine's default: 512)")
    p.add_argument("--choose", action="store_true", help="also search the largest strength meeting the goal")
    p.add_argument("--out", help="folder for each preset's picture at its default strength")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()

    import torch
    from PIL import Image

    from worker import presets
    from worker.engines import fast

    torch.set_num_threads(args.threads)
    judge = Judge()
    feats: dict = {}
    photos = {n: fast.fit(Image.open(IMAGES / n), args.size) for n in PHOTOS}
    out_dir = Path(args.out) if args.out else None
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
    short = [n.split(".")[0][:7] for n in PHOTOS]
    head = f"{'id':>2}  {'name':<20} {'dflt':>4} | at default: " + " ".join(f"{s:>7}" for s in short) + \
        " | at 1.0: " + " ".join(f"{s:>7}" for s in short) + (" | largest <= 1.5" if args.choose else "")
    print(head)
    print("-" * len(head))
    t0 = time.perf_counter()
    worst_default, misses = 0.0, []
    for preset in presets.PRESETS:
        full = {n: fast.run(ph, preset=preset.id, strength=1.0, size=args.size) for n, ph in photos.items()}

        measured: dict = {}

        def distance(n: str, strength: float) -> float:
            if (n, strength) not in measured:
                out = full[n] if strength >= 1.0 else Image.blend(photos[n], full[n], strength)
                measured[n, strength] = content_distance(judge, out, photos[n], feats)
            return measured[n, strength]

        at_one = [distance(n, 1.0) for n in PHOTOS]
        at_default = [distance(n, preset.strength) for n in PHOTOS]
        worst_default = max(worst_default, *at_default)
        if max(at_default) > GOAL:
            misses.append(preset.id)
        line = f"{preset.id:>2}  {preset.name:<20} {preset.strength:>4.2f} | {'':12}" + \
            " ".join(f"{d:>7.2f}" for d in at_default) + f" | {'':7}" + " ".join(f"{d:>7.2f}" for d in at_one)
        if args.choose:
            worst_first = sorted(PHOTOS, key=lambda n: -distance(n, 1.0))
            line += f" | {largest_strength(distance, worst_first):.2f}"
        print(line, flush=True)
        if out_dir:
            for n in PHOTOS:
                out = Image.blend(photos[n], full[n], preset.strength)
                out.save(out_dir / f"{preset.id:02d}_{n.split('.')[0]}.jpg", quality=88)
    print(f"\nworst content distance at the default strengths: {worst_default:.2f} (goal <= {GOAL}); "
          f"presets over the goal: {misses or 'none'}; {time.perf_counter() - t0:.0f} s")
    return 0 if not misses else 1


if __name__ == "__main__":
    raise SystemExit(main())
