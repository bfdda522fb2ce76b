"""Image-to-image translation with a CycleGAN or pix2pix generator from MODELS_DIR/translate/<NAME>.{safetensors,pth}:
one trained with `train-cyclegan` / `train-pix2pix`, or an official pytorch-CycleGAN-and-pix2pix checkpoint
dropped in (e.g. style_monet.pth renamed to monet.pth); or the bundled `vintage` (vintagify's CycleGAN, converted
by `models fetch`). The architecture is read from the state dict's keys.

`.pth` files are read with torch.load(weights_only=True): tensors only, no code from the file runs.
The image is scaled so its long side is `size` (both sides multiples of 4), padded by reflection to what the
network needs (4 for ResNet, 2**depth for a U-Net) and cropped back.
"""
from __future__ import annotations

import pickle
import threading
import zipfile
from pathlib import Path
from typing import Optional

import torch
import torch.nn.functional as F
from PIL import Image

from worker import generators, params
from worker.core import images
from worker.core.cyclegan import resnet_from_state
from worker.core.pix2pix import unet_from_state, use_batch_stats
from worker.device import autocast, pick
from worker.engines import Canceled, OnProgress, Progress, ShouldCancel

MIN_SIZE = {dev: params.MIN_SIZE["translate"] for dev in params.ENGINE_MAX_SIZE}  # the request contract's
MAX_SIZE = {dev: limits["translate"] for dev, limits in params.ENGINE_MAX_SIZE.items()}
_cache: dict[tuple, torch.nn.Module] = {}
_lock = threading.Lock()


def models(models_root: Path | None = None) -> list[dict]:
    """The translate models available: [{"name", "file", "bytes", ...}] (see worker.generators.translators)."""
    return generators.translators(models_root)


def read_state(path: Path) -> dict:
    """A generator state dict from .safetensors or .pth (weights_only), or ValueError saying why not."""
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except (SafetensorError, OSError) as e:
            raise ValueError(f"{path.name} is not a readable safetensors file ({e})") from None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError) as e:
        raise ValueError(f"{path.name} is not a safe torch checkpoint (weights_only load refused it: "
                         f"{str(e).splitlines()[0][:200]})") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ValueError(f"{path.name} holds a {type(state).__name__}, not a generator state dict")
    return dict(state)


def from_state(state: dict) -> torch.nn.Module:
    """The generator the keys describe (ResNet/CycleGAN or U-Net/pix2pix), weights loaded, in eval mode."""
    if "model.model.0.weight" in state or "module.model.model.0.weight" in state:
        return use_batch_stats(unet_from_state(state)).eval()
    if "model.1.weight" in state or "module.model.1.weight" in state:
        return resnet_from_state(state).eval()
    raise ValueError("not a CycleGAN (ResNet, 'model.1.weight') or pix2pix (U-Net, 'model.model.0.weight') "
                     f"generator; keys start {list(state)[:3]}")


def model_path(name: str, models_root: Path | None = None) -> Path:
    generators.check_name(name)
    for row in generators.translators(models_root):
        if row["name"] == name:
            return generators.translate_file(row, models_root)
    names = [r["name"] for r in generators.translators(models_root)]
    raise ValueError(f"unknown translate model {name!r}; available: {', '.join(names) or 'none'} (put a "
                     "CycleGAN/pix2pix generator .pth or .safetensors into MODELS_DIR/translate/)")


def load(name: str, device: torch.device, models_root: Path | None = None) -> torch.nn.Module:
    """The network for `name` on `device`, cached per process (a changed file is reloaded)."""
    path = model_path(name, models_root)
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size, str(device))
    with _lock:
        if key not in _cache:
            for old in [k for k in _cache if k[0] == key[0]]:
                del _cache[old]
            net = from_state(read_state(path)).to(device)
            if not all(torch.isfinite(p).all() for p in net.parameters()):
                raise ValueError(f"{path.name} holds NaN or infinite weights")
            _cache[key] = net
        return _cache[key]


def apply(net: torch.nn.Module, x: torch.Tensor, device: torch.device) -> torch.Tensor:
    """(1, 3, H, W) 0..1 -> (1, 3, H, W) 0..1 through a [-1, 1] generator; pads to the net's multiple."""
    multiple = getattr(net, "multiple", 4)
    h, w = x.shape[-2:]
    ph, pw = -h % multiple, -w % multiple
    x = x * 2 - 1
    if ph or pw:  # reflection needs the pad smaller than the side; replicate beyond that
        mode = "reflect" if ph < h and pw < w else "replicate"
        x = F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2), mode=mode)
    with torch.no_grad(), autocast(device):
        y = net(x.to(device)).float()
    y = y[..., ph // 2:ph // 2 + h, pw // 2:pw // 2 + w]
    return ((y + 1) / 2).clamp(0, 1).cpu()


def run(content: Image.Image, *, model: str, size: int = 512, device: str = "auto",
        on_progress: Optional[OnProgress] = None, should_cancel: Optional[ShouldCancel] = None,
        models_root: Path | None = None) -> Image.Image:
    """`content` translated by the generator `model`; the long side of the result is `size` (sides rounded to
    multiples of 4). ValueError for a bad size or model name, or a file that is not such a generator."""
    dev = pick(device)
    lo, hi = MIN_SIZE[dev.type], MAX_SIZE[dev.type]
    if isinstance(size, bool) or not isinstance(size, int) or not lo <= size <= hi:
        raise ValueError(f"size must be an integer {lo}..{hi} on {dev.type}, not {size!r}")
    net = load(model, dev, models_root)
    if should_cancel and should_cancel():
        raise Canceled("canceled before translating")
    x = images.to_tensor(content)
    x = images.resize(x, images.fit_size(x.shape[-1], x.shape[-2], size, multiple=4))  # (1, 3, H, W), H, W % 4 == 0
    out = images.to_image(apply(net, x, dev))
    if on_progress:
        on_progress(Progress(1, 1, {}, out))
    return out
