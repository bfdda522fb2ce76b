"""DCGAN faces and painted GAN portraits.

  python -m worker faces -o GRID.png [--seed N] [--count N]
  python -m worker faces --interpolate A B --frames N -o MORPH.gif
  python -m worker portrait -o OUT [--seed N] [STYLE | --preset N] [--engine fast|gatys] [--size PX]
      [--generator NAME] [--photo FILE] [--face-strength F] [--truncation T] [--candidates K] [--upscale 2|4]
"""
from __future__ import annotations

import json
import sys
import time

from worker import params
from worker.cli.flags import add_flags

PORTRAIT = list(params.Portrait.model_fields)  # the contract's fields, as flags


def add_arguments(p) -> None:
    # one module serves two commands; the sub-parser's prog ends with the command name
    if _command(p) == "portrait":
        p.add_argument("style", nargs="?", help="style image (omit for a preset)")
        p.add_argument("-o", "--output", required=True)
        p.add_argument("--photo", help="paint the largest face in this photo instead of a generated one")
        add_flags(p, params.Portrait, PORTRAIT, helps={"seed": "face seed (default: random, printed)"})
        p.add_argument("--device", default="auto", choices=params.DEVICES)
        p.add_argument("--json", action="store_true", help="print a JSON summary")
    else:
        p.add_argument("-o", "--output", required=True, help="PNG grid, or a GIF with --interpolate")
        p.add_argument("--seed", type=int, default=0, help="first seed (default 0); face i uses seed + i")
        p.add_argument("--count", type=int, default=16, help="number of faces in the grid (default 16)")
        p.add_argument("--interpolate", nargs=2, type=int, metavar=("A", "B"), help="morph from seed A to B")
        p.add_argument("--frames", type=int, default=24, help="GIF frames with --interpolate (default 24)")
        p.add_argument("--scale", type=int, default=2, help="pixel zoom of each 64 px face (default 2)")
        p.add_argument("--device", default="auto", choices=params.DEVICES)
        p.add_argument("--json", action="store_true", help="print a JSON summary")


def _command(p) -> str:
    name = p.prog.rsplit(" ", 1)[-1]
    if name not in ("faces", "portrait"):
        raise ValueError(f"worker.cli.gan serves faces and portrait, not {name!r}")
    return name


def grid(images, columns: int, pad: int = 2):
    from PIL import Image

    w, h = images[0].size
    rows = -(-len(images) // columns)
    sheet = Image.new("RGB", (columns * (w + pad) + pad, rows * (h + pad) + pad), "white")
    for i, im in enumerate(images):
        r, c = divmod(i, columns)
        sheet.paste(im, (pad + c * (w + pad), pad + r * (h + pad)))
    return sheet


def main(args) -> int:
    from PIL import Image

    from worker import models
    from worker.engines import portrait

    start = time.perf_counter()
    try:
        if hasattr(args, "engine"):
            seed = args.seed if args.seed is not None or args.photo else params.random_seed()
            style = Image.open(args.style).convert("RGB") if args.style else None
            given = {n: getattr(args, n) for n in PORTRAIT if n != "seed" and getattr(args, n) is not None}
            factor = given.pop("upscale", 1)
            photo = Image.open(args.photo).convert("RGB") if args.photo else None
            out = portrait.run(seed, style, photo=photo, device=args.device, **given)
            if factor > 1:  # print size, as the service does it: after the engine
                from worker.engines import upscale

                info = out.info
                out = upscale.run(out, factor, device=args.device)
                out.info.update({k: v for k, v in info.items() if k in ("candidate", "faces_found")})
            out.save(args.output)
            summary = {"output": args.output, "seed": seed, "engine": args.engine, "size": list(out.size),
                       **{k: out.info[k] for k in ("candidate", "faces_found") if k in out.info}}
        elif args.interpolate:
            a, b = args.interpolate
            frames = portrait.interpolate(a, b, args.frames, device=args.device)
            frames = [f.resize((64 * args.scale,) * 2, Image.LANCZOS) for f in frames]
            frames[0].save(args.output, save_all=True, append_images=frames[1:], duration=80, loop=0)
            summary = {"output": args.output, "from": a, "to": b, "frames": len(frames)}
        else:
            if not 1 <= args.count <= 256:
                raise ValueError(f"count must be from 1 to 256, not {args.count}")
            seeds = [args.seed + i for i in range(args.count)]
            from worker.core.images import to_image

            ims = [to_image(x).resize((64 * args.scale,) * 2, Image.LANCZOS)
                   for x in portrait.faces(seeds, device=args.device)]
            grid(ims, columns=min(8, len(ims))).save(args.output)
            summary = {"output": args.output, "seeds": seeds}
    except (ValueError, OSError, models.ModelsMissing) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    summary["seconds"] = round(time.perf_counter() - start, 3)
    print(json.dumps(summary) if args.json else
          f"{summary['output']}  " + " ".join(f"{k}={v}" for k, v in summary.items() if k != "output"))
    return 0
