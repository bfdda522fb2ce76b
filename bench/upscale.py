"""Print-size upscaling (Real-ESRGAN x4plus, worker/engines/upscale.py): is it the same picture, is it sharper,
and what does a 4096 px print cost on this machine.

For each sample photo: the plain result (the fast engine with a preset at --size, or the photo itself with
--preset none), then upscale x4:
  - same picture: the x4 result shrunk back (Lanczos) vs the plain result, mean abs diff on 0..1 (goal <= 0.04)
  - sharper: variance of the Laplacian (grey, 0..1) of the x4 result / of a bicubic x4 enlargement (goal >= 1.3)
Side-by-side crops (bicubic | Real-ESRGAN, 1:1 output pixels) go to --crops for looking at.
Then a print: a --print px long side result (x4 of a --print/4 px picture) in a child process, so its seconds and
peak RSS are its own; the device and precision used are printed.
Run: .venv/bin/python bench/upscale.py [--images a.png b.jpg] [--size 256] [--preset 7|none] [--print 4096|0]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads OpenMP
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from PIL import Image, ImageFilter  # noqa: E402

SAMPLES = Path(__file__).resolve().parent.parent.parent / "shared" / "images"
DEFAULT_IMAGES = [SAMPLES / n for n in ("chelsea.png", "coffee.png", "astronaut.png")]


def grey(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("L"), dtype=np.float64) / 255


def laplacian_var(img: Image.Image) -> float:
    g = grey(img)
    lap = g[1:-1, :-2] + g[1:-1, 2:] + g[:-2, 1:-1] + g[2:, 1:-1] - 4 * g[1:-1, 1:-1]
    return float(lap.var())


def plain(path: Path, size: int, preset: str) -> Image.Image:
    img = Image.open(path).convert("RGB")
    if preset == "none":
        scale = size / max(img.size)
        return img.resize((round(img.width * scale), round(img.height * scale)), Image.LANCZOS)
    from worker.engines import fast

    return fast.run(img, preset=preset, size=size)


def crops(name: str, base: Image.Image, bicubic: Image.Image, ours: Image.Image, into: Path) -> Path:
    """Bicubic | ours, a 256 px square at the most detailed part of the picture (largest Laplacian energy)."""
    g = grey(ours)
    side = 256
    best, at = -1.0, (0, 0)
    for y in range(0, ours.height - side + 1, 64):
        for x in range(0, ours.width - side + 1, 64):
            e = float(np.abs(np.diff(g[y:y + side, x:x + side], axis=1)).mean())
            if e > best:
                best, at = e, (x, y)
    box = (at[0], at[1], at[0] + side, at[1] + side)
    sheet = Image.new("RGB", (2 * side + 8, side), "white")
    sheet.paste(bicubic.crop(box), (0, 0))
    sheet.paste(ours.crop(box), (side + 8, 0))
    into.mkdir(parents=True, exist_ok=True)
    out = into / f"upscale-{name}.png"
    sheet.save(out)
    return out


def quality(args) -> None:
    from worker.engines import upscale

    print(f"{'image':<16}{'plain':>10}{'x4':>11}{'shrunk-back MAD':>17}{'lapvar x4/bicubic':>19}{'s':>7}")
    for path in args.images:
        base = plain(Path(path), args.size, args.preset)
        t = time.perf_counter()
        ours = upscale.run(base, 4)
        secs = time.perf_counter() - t
        back = ours.resize(base.size, Image.LANCZOS)
        mad = float(np.abs(np.asarray(back, np.float64) - np.asarray(base, np.float64)).mean() / 255)
        bicubic = base.resize(ours.size, Image.BICUBIC)
        ratio = laplacian_var(ours) / laplacian_var(bicubic)
        sheet = crops(Path(path).stem, base, bicubic, ours, Path(args.crops))
        print(f"{Path(path).name:<16}{'%dx%d' % base.size:>10}{'%dx%d' % ours.size:>11}{mad:>17.4f}{ratio:>19.2f}"
              f"{secs:>7.1f}   crops: {sheet}")
    print("goals: shrunk-back MAD <= 0.04, Laplacian variance ratio >= 1.3")


def print_child(side: int, path: str, preset: str) -> None:
    """One print in this (child) process: JSON with seconds, peak RSS, tiles, device."""
    import torch

    from worker import device as devices
    from worker.engines import upscale

    base = plain(Path(path), side // 4, preset)
    tiles = []
    t, use = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    cpu0 = use.ru_utime + use.ru_stime
    out = upscale.run(base, 4, on_progress=lambda p: tiles.append(p.total))
    secs = time.perf_counter() - t
    dev = devices.pick("auto")
    precision = "fp16" if dev.type == "cuda" else ("bf16" if upscale.CPU_BF16 and devices.bf16_ok(dev) else "fp32")
    use = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"seconds": round(secs, 1), "cpu_seconds": round(use.ru_utime + use.ru_stime - cpu0, 1),
                      "peak_rss_mb": use.ru_maxrss // 1024,
                      "size": list(out.size), "from": list(base.size), "tiles": tiles[-1] if tiles else 0,
                      "device": str(dev), "precision": precision, "threads": torch.get_num_threads()}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", nargs="+", default=[str(p) for p in DEFAULT_IMAGES])
    ap.add_argument("--size", type=int, default=256, help="plain result's long side (default 256)")
    ap.add_argument("--preset", default="7", help="fast engine preset for the plain result, or none (the photo)")
    ap.add_argument("--print", dest="print_side", type=int, default=4096, help="print long side; 0 skips it")
    ap.add_argument("--crops", default="/tmp", help="folder for the side-by-side crops")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return print_child(args.print_side, args.images[0], args.preset)
    quality(args)
    if args.print_side:
        cmd = [sys.executable, __file__, "--child", "--print", str(args.print_side), "--images", args.images[0],
               "--preset", args.preset]
        res = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.splitlines()[-1])
        # cpu_seconds / threads: what the wall time would be with the cores to itself (a shared box is slower)
        print(f"print {res['size'][0]}x{res['size'][1]} from {res['from'][0]}x{res['from'][1]}: {res['seconds']} s "
              f"({res['cpu_seconds']} CPU s), "
              f"peak RSS {res['peak_rss_mb']} MB, {res['tiles']} tiles, {res['device']} {res['precision']}, "
              f"{res['threads']} threads")


if __name__ == "__main__":
    main()
