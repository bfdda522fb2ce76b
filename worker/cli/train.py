"""Train your own generators: train-gan (DCGAN on a folder of images), train-cyclegan (unpaired A<->B),
train-pix2pix (paired side-by-side images).

One module serves the three commands (it reads which from the parser's prog / args.command). A run keeps
checkpoints, per-epoch sample grids and losses.png in --run-dir (default var/train/<kind>-<NAME>); running the
same command again resumes from the last checkpoint (--fresh starts over). Ctrl-C saves before it stops.
"""
from __future__ import annotations

import json
import re
import sys
from dataclasses import fields
from pathlib import Path

from worker import params
from worker.train import options  # torch-free: the flags below need no torch

KINDS = {"train-gan": "dcgan", "train-cyclegan": "cyclegan", "train-pix2pix": "pix2pix"}


def _command(p) -> str:
    name = p.prog.rsplit(" ", 1)[-1]
    if name not in KINDS:
        raise ValueError(f"worker.cli.train serves {', '.join(KINDS)}, not {name!r}")
    return name


def add_arguments(p) -> None:
    cmd = _command(p)
    p.set_defaults(train_command=cmd)
    if cmd == "train-cyclegan":
        p.add_argument("--a", metavar="DIR", required=True, help="folder of domain A images (e.g. photos)")
        p.add_argument("--b", metavar="DIR", required=True, help="folder of domain B images (e.g. paintings)")
    else:
        p.add_argument("--data", metavar="DIR", required=True,
                       help="folder of images" + (" (input | target side by side)" if cmd == "train-pix2pix" else ""))
    p.add_argument("--out", metavar="NAME", help="model name (default: from the data folder name)")
    run = options.RUNS[KINDS[cmd]]
    p.add_argument("--epochs", metavar="N", type=int, default=run.epochs, help=f"total epochs (default {run.epochs})")
    p.add_argument("--batch", metavar="N", type=int, default=run.batch, help=f"batch size (default {run.batch})")
    p.add_argument("--steps", metavar="N", type=int, help="stop after N steps in this run (resume later)")
    for f in fields(options.OPTIONS[KINDS[cmd]]):  # the trainer's options with help: flags, defaults, help
        if f.metadata.get("help"):
            _flag(p, f)
    p.add_argument("--limit", metavar="N", type=int, help="use at most N images per folder")
    p.add_argument("--seed", metavar="N", type=int, default=0, help="data order and noise seed (default 0)")
    p.add_argument("--run-dir", metavar="DIR", help="checkpoints, samples, losses.png (default var/train/...)")
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint and start over")
    p.add_argument("--device", choices=params.DEVICES, default="auto")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last stdout line")


def _flag(p, f) -> None:
    kind = {"int": int, "float": float}.get(f.type, str)  # annotations are strings (postponed evaluation)
    extra = {k: v for k, v in f.metadata.items() if k != "help"}
    default = f"{f.default:g}" if kind is not str else f.default
    if "choices" not in extra:
        extra["metavar"] = "N" if kind is int else "X"
    p.add_argument("--" + f.name.replace("_", "-"), type=kind, default=f.default,
                   help=f"{f.metadata['help']} (default {default})", **extra)


def default_name(*folders: str) -> str:
    name = "-".join(re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(f).resolve().name).strip("-.") or "model"
                    for f in folders)
    return name[:64]


def build(args, device, models_root: Path):
    kind = KINDS[args.train_command]
    trainer = __import__(f"worker.train.{kind}", fromlist=["build"])
    opt = trainer.Options(**{f.name: getattr(args, f.name) for f in fields(trainer.Options) if hasattr(args, f.name)})
    folders = (args.a, args.b) if kind == "cyclegan" else (args.data,)
    return trainer.build(*folders, opt, device, args.out, models_root, args.limit)


def main(args) -> int:
    from worker import device as devices, settings
    from worker.models import models_dir
    from worker.train import loop

    cmd = args.train_command
    folders = [args.a, args.b] if cmd == "train-cyclegan" else [args.data]
    try:
        args.out = loop.check_name(args.out or default_name(*folders))
        for label, v in (("--size", args.size), ("--epochs", args.epochs), ("--batch", args.batch),
                         ("--ngf", args.ngf), ("--ndf", args.ndf)):
            if v < 1:
                raise ValueError(f"{label} must be >= 1, not {v}")
        if args.steps is not None and args.steps < 1:
            raise ValueError(f"--steps must be >= 1, not {args.steps}")
        dev = devices.pick(args.device)
        run_dir = Path(args.run_dir or settings.get().TRAIN_DIR / f"{KINDS[cmd]}-{args.out}")
        print(f"loading images for {args.out} ...", file=sys.stderr)
        task = build(args, dev, models_dir())
        print(f"{task.n} training items on {dev}; run dir {run_dir}", file=sys.stderr)
        result = loop.fit(task, run_dir, epochs=args.epochs, batch=args.batch, seed=args.seed,
                          max_steps=args.steps, resume=not args.fresh, device=dev)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except FloatingPointError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; checkpoint saved, run the same command again to resume", file=sys.stderr)
        return 130
    summary = {"name": args.out, "kind": KINDS[cmd], "step": result.step, "total": result.total,
               "resumed_from": result.resumed_from, "losses": result.losses, "run_dir": str(run_dir),
               "samples": [str(p) for p in result.samples], "losses_plot": str(run_dir / "losses.png"),
               "exported": [str(p) for p in result.exported]}
    if result.resumed_from:
        print(f"resumed from step {result.resumed_from}", file=sys.stderr)
    use = (f"portrait --generator {args.out}" if cmd == "train-gan" else f"translate CONTENT --model {args.out}")
    print(f"step {result.step}/{result.total}; model in {', '.join(summary['exported'])}; use it with "
          f"`python -m worker {use}`; samples in {run_dir / 'samples'}")
    if args.json:
        print(json.dumps(summary))
    return 0
