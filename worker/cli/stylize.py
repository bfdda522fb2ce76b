"""Style transfer of CONTENT with STYLE image(s) (Gatys optimisation, or the fast engine) into OUT."""
from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ENGINES = ("gatys", "fast")
DEVICES = ("auto", "cpu", "cuda")
INITS = ("content", "noise", "style")  # worker.core.gatys.INITS (kept here so --help needs no torch)
SNAPSHOT_EVERY = 10


def add_arguments(p) -> None:
    p.add_argument("content", metavar="CONTENT", help="content image file")
    p.add_argument("styles", metavar="STYLE", nargs="*", help="style image file(s); blended by --style-weights")
    p.add_argument("-o", "--output", metavar="OUT", required=True, help="output image file (PNG, JPEG, ...)")
    p.add_argument("--engine", choices=ENGINES, default="gatys", help="gatys (optimisation) or fast (feed-forward)")
    p.add_argument("--preset", metavar="N", help="fast engine preset id 0..25 or a blend like 3:0.5,12:0.5")
    p.add_argument("--size", metavar="PX", type=int, default=512, help="output long side in pixels (default 512)")
    p.add_argument("--steps", metavar="N", type=int,
                   help="optimiser steps over all scales (gatys; unset options take worker.core.gatys's defaults)")
    p.add_argument("--style-weights", metavar="W", type=float, nargs="+", help="blend weight per style image")
    p.add_argument("--content-weight", metavar="X", type=float)
    p.add_argument("--style-weight", metavar="X", type=float)
    p.add_argument("--tv-weight", metavar="X", type=float)
    p.add_argument("--preserve-color", action="store_true", help="keep the content's colours (luminance-only)")
    p.add_argument("--init", choices=INITS, default="content", help="starting image (default content)")
    p.add_argument("--style-scale", metavar="X", type=float, default=1.0,
                   help="style image size relative to the output (default 1.0)")
    p.add_argument("--seed", metavar="N", type=int, default=0)
    p.add_argument("--device", choices=DEVICES, default="auto")
    p.add_argument("--snapshots", metavar="DIR", help=f"write the image every {SNAPSHOT_EVERY} steps here (gatys)")
    p.add_argument("--repeat", metavar="N", type=int, default=1, help="run N times in one process (timing)")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last stdout line")



class Bar:
    """A tqdm bar on stderr per run (--repeat starts a new one at step 1); the last step shows when it closes."""

    def __init__(self, stream=None):
        self.stream, self.bar = stream, None

    def __call__(self, p) -> None:
        from tqdm import tqdm

        if self.bar is None or p.step == 1:
            self.close()
            self.bar = tqdm(total=p.total, file=self.stream or sys.stderr, unit="step", desc="gatys")
        loss = p.losses.get("total")
        if loss is not None:
            self.bar.set_postfix_str(f"loss {loss:.4g}", refresh=False)
        self.bar.n = p.step  # the step the engine reports, not a count of calls
        if p.step >= p.total:
            self.close()
        else:
            self.bar.update(0)  # draws at most every mininterval

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _open(path: str):
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        img = Image.open(path)
        img = ImageOps.exif_transpose(img)
        return img.convert("RGB")
    except FileNotFoundError:
        raise ValueError(f"no such image file: {path}") from None
    except (UnidentifiedImageError, OSError) as e:
        raise ValueError(f"cannot read image {path}: {e}") from None


def _check(args) -> None:
    if args.repeat < 1:
        raise ValueError(f"--repeat must be >= 1, not {args.repeat}")
    if args.engine == "gatys" and args.preset is not None:
        args.engine = "fast"  # a preset only exists for the fast engine
    if args.engine == "gatys" and not args.styles:
        raise ValueError("the gatys engine needs at least one STYLE image")
    if args.engine == "fast":
        if bool(args.styles) == (args.preset is not None):
            raise ValueError("the fast engine needs exactly one of: one STYLE image, or --preset")
        if len(args.styles) > 1:
            raise ValueError("the fast engine takes one STYLE image (blend presets with --preset 3:0.5,12:0.5)")
    if args.style_weights is not None and len(args.style_weights) != len(args.styles):
        raise ValueError(f"--style-weights needs one weight per STYLE image ({len(args.styles)}), "
                         f"got {len(args.style_weights)}")
    if not Path(args.output).parent.exists():
        raise ValueError(f"output folder {Path(args.output).parent} does not exist")


def _fast_engine():
    try:
        from worker.engines import fast
    except ImportError as e:
        if getattr(e, "name", "") == "worker.engines.fast":
            return None
        raise
    return fast


def _gatys_job(args, progress):
    from worker.engines import gatys

    t0 = time.perf_counter()
    gatys.vgg(args.device)
    load = time.perf_counter() - t0
    content, styles = _open(args.content), [_open(s) for s in args.styles]
    snaps = Path(args.snapshots) if args.snapshots else None
    if snaps:
        snaps.mkdir(parents=True, exist_ok=True)

    def on_progress(p):
        progress(p)
        if snaps and p.preview is not None:
            p.preview.save(snaps / f"step{p.step:05d}.png")

    def once():
        return gatys.run(content, styles, style_weights=args.style_weights, size=args.size, steps=args.steps,
                         content_weight=args.content_weight, style_weight=args.style_weight,
                         tv_weight=args.tv_weight, preserve_color=args.preserve_color, init=args.init,
                         style_scale=args.style_scale, seed=args.seed, device=args.device,
                         on_progress=on_progress, snapshot_every=SNAPSHOT_EVERY if snaps else 0)

    steps = args.steps if args.steps is not None else gatys.defaults()["steps"]
    return once, load, steps


def _fast_job(args, fast):
    content = _open(args.content)
    style = _open(args.styles[0]) if args.styles else None
    preset = args.preset
    if preset is not None and preset.isdigit():
        preset = int(preset)
    t0 = time.perf_counter()
    from worker.device import pick

    dev = pick(args.device)
    for name in ("multistyle26",) if preset is not None else ("arbitrary_predict", "arbitrary_transform"):
        fast.net(name, dev)  # load up front so `seconds` excludes it
    load = time.perf_counter() - t0

    def once():
        return fast.run(content, style, preset=preset, size=args.size, preserve_color=args.preserve_color,
                        device=args.device)

    return once, load, None


def main(args) -> int:
    from worker import models

    try:
        _check(args)
        if args.engine == "fast":
            fast = _fast_engine()
            if fast is None:
                print("error: the fast engine is not available yet (worker/engines/fast.py is missing); "
                      "use --engine gatys", file=sys.stderr)
                return 2
            once, load, steps = _fast_job(args, fast)
        else:
            once, load, steps = _gatys_job(args, Bar())
        seconds, out = [], None
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            out = once()
            seconds.append(time.perf_counter() - t0)
        out.save(args.output)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except models.ModelsMissing as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except RuntimeError as e:  # e.g. the Gatys run failed twice (NaN) even with safer settings
        print(f"error: {e}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"output": str(args.output), "engine": args.engine, "size": list(out.size),
                          "steps": steps, "seconds": round(statistics.median(seconds), 3),
                          "load_seconds": round(load, 3)}))
    else:
        print(f"wrote {args.output} ({out.size[0]}x{out.size[1]}) in {statistics.median(seconds):.1f}s")
    return 0
