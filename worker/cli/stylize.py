"""Style transfer of CONTENT with STYLE image(s) (Gatys optimisation, or the fast engine) into OUT."""
from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

from worker import params
from worker.cli.flags import add_flags

ENGINES = tuple(e for e in params.ENGINES["stylize"] if e != "translate")  # translate has its own command
SNAPSHOT_EVERY = 10
API_ONLY = ("engine", "upscale")  # --engine is this command's own choice; --upscale runs after the engine


def gatys_fields() -> list[str]:
    """The request contract's Gatys fields, each a flag (the seed here is 0 unless given, so a run repeats)."""
    return [n for n in params.Gatys.model_fields if n not in API_ONLY]


def fast_fields() -> list[str]:
    """The Fast fields the Gatys ones leave out (preset, strength)."""
    return [n for n in params.Fast.model_fields if n not in API_ONLY and n not in gatys_fields()]


def add_arguments(p) -> None:
    p.add_argument("content", metavar="CONTENT", help="content image file")
    p.add_argument("styles", metavar="STYLE", nargs="*", help="style image file(s); blended by --style-weights")
    p.add_argument("-o", "--output", metavar="OUT", required=True, help="output image file (PNG, JPEG, ...)")
    p.add_argument("--engine", choices=ENGINES, default="gatys", help="gatys (optimisation) or fast (feed-forward)")
    add_flags(p, params.Gatys, gatys_fields(), helps={"seed": "seed of the noise init (default 0)",
                                              "style_weights": "blend weight per style image (default: equal)"})
    add_flags(p, params.Fast, fast_fields())
    add_flags(p, params.Gatys, ["upscale"])
    p.add_argument("--device", choices=params.DEVICES, default="auto")
    p.add_argument("--snapshots", metavar="DIR", help=f"write the image every {SNAPSHOT_EVERY} steps here (gatys)")
    p.add_argument("--repeat", metavar="N", type=int, default=1, help="run N times in one process (timing)")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last stdout line")


class Bar:
    """A tqdm bar on stderr per run (a step lower than the bar's starts a new one: --repeat, or a restart); the last
    step shows when it closes. Progressive Gatys reports step 0 (the fast preview) first: same bar."""

    def __init__(self, stream=None, desc="gatys"):
        self.stream, self.bar, self.desc = stream, None, desc

    def __call__(self, p) -> None:
        from tqdm import tqdm

        if self.bar is None or p.step < self.bar.n:
            self.close()
            self.bar = tqdm(total=p.total, file=self.stream or sys.stderr, unit="step", desc=self.desc)
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
    if (args.upscale or 1) > 1 and (args.size or params.DEFAULT_SIZE) * args.upscale > params.MAX_OUTPUT:
        raise ValueError(f"--size x --upscale must be at most {params.MAX_OUTPUT} px (the print limit)")
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

    def once():  # every contract field (None: the engine's default) goes to the engine by name
        return gatys.run(content, styles, **{n: getattr(args, n) for n in gatys_fields()}, device=args.device,
                         on_progress=on_progress, snapshot_every=SNAPSHOT_EVERY if snaps else 0)

    steps = args.steps if args.steps is not None else gatys.defaults()["steps"]
    return once, load, steps


def _fast_job(args, fast):
    content = _open(args.content)
    style = _open(args.styles[0]) if args.styles else None
    # an id, a name or a blend, read as the API reads it: the id (int) or a normalised blend of ids
    preset = params.preset_value(args.preset) if args.preset is not None else None
    t0 = time.perf_counter()
    from worker.device import pick

    dev = pick(args.device)
    for name in ("multistyle26",) if preset is not None else ("arbitrary_predict", "arbitrary_transform"):
        fast.net(name, dev)  # load up front so `seconds` excludes it
    load = time.perf_counter() - t0

    shared = {n: getattr(args, n) for n in ("size", "preserve_color", *fast_fields()) if n != "preset"}

    def once():
        return fast.run(content, style, preset=preset, device=args.device,
                        **{k: v for k, v in shared.items() if v is not None})

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
        if (args.upscale or 1) > 1:  # print size, as the service does it: after the engine
            from worker.engines import upscale

            out = upscale.run(out, args.upscale, device=args.device, on_progress=Bar(desc="upscale"))
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
