"""`python -m worker COMMAND ...`: the CLI over the same code the Celery tasks run."""
from __future__ import annotations

import argparse
import importlib
import sys

# command -> module with add_arguments(parser) and main(args); modules import torch lazily inside main.
COMMANDS = {
    "models": "worker.cli.models",
    "train-gan": "worker.cli.train",
    "train-cyclegan": "worker.cli.train",
    "train-pix2pix": "worker.cli.train",
    "translate": "worker.cli.translate",
    "stylize": "worker.cli.stylize",
    "faces": "worker.cli.gan",
    "portrait": "worker.cli.gan",
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m worker", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    for name, module in COMMANDS.items():
        mod = importlib.import_module(module)
        mod.add_arguments(sub.add_parser(name, help=(mod.__doc__ or "").strip().splitlines()[0],
                                         description=mod.__doc__))
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return importlib.import_module(COMMANDS[args.command]).main(args)


if __name__ == "__main__":
    sys.exit(main())
