"""Translate an image with a CycleGAN / pix2pix generator from MODELS_DIR/translate (or list them, and the
trained DCGAN generators, with --list)."""
from __future__ import annotations

import json
import sys

from worker import params
from worker.cli.flags import add_flags


def add_arguments(p) -> None:
    p.add_argument("content", metavar="CONTENT", nargs="?", help="input image file")
    p.add_argument("-o", "--output", metavar="OUT", help="output image file")
    add_flags(p, params.Translate, ["model", "size"],
              helps={"model": "MODELS_DIR/translate/NAME.{safetensors,pth} (--list shows them)"})
    p.add_argument("--device", choices=params.DEVICES, default="auto")
    p.add_argument("--list", action="store_true", help="list translate models and trained generators")
    p.add_argument("--json", action="store_true", help="print JSON")


def main(args) -> int:
    from worker import generators

    if args.list:
        rows = {"translate": generators.translators(), "generators": generators.listing()}
        if args.json:
            print(json.dumps(rows))
        else:
            for r in rows["translate"]:
                print(f"translate  {r['name']:24} {r.get('family', '?'):7} {r['bytes'] / 1e6:6.1f} MB  {r['file']}")
            for r in rows["generators"]:
                print(f"generator  {r['name']:24} dcgan   {r.get('size')}px step {r.get('step')} "
                      f"({r.get('images')} images)")
        return 0
    if not (args.content and args.output and args.model):
        print("error: give CONTENT, -o OUT and --model NAME (or --list)", file=sys.stderr)
        return 2
    from PIL import Image, ImageOps, UnidentifiedImageError

    from worker.engines import translate

    try:
        with Image.open(args.content) as img:
            content = ImageOps.exif_transpose(img).convert("RGB")
        size = {"size": args.size} if args.size is not None else {}
        out = translate.run(content, model=args.model, device=args.device, **size)
        out.save(args.output)
    except (ValueError, OSError, UnidentifiedImageError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"output": args.output, "size": list(out.size), "model": args.model}))
    return 0
