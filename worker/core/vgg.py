"""VGG-19 feature extractor over the cached original (Caffe) ImageNet weights.

Input is RGB 0..1; the network wants BGR 0..255 minus the mean pixel, which `forward` does itself. Layers are
named the Gatys way: conv1_1, relu1_1, ..., pool5. A forward pass stops at the deepest layer asked for, so a
style run whose deepest layer is relu5_1 never computes conv5_2..conv5_4.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

MEAN_BGR = (103.939, 116.779, 123.68)
POOLS = ("max", "avg")

# (block, convs per block) of VGG-19; cached weights are keyed "block{b}_conv{i}.weight" (Keras names).
_BLOCKS = ((1, 2), (2, 2), (3, 4), (4, 4), (5, 4))


def _plan() -> list[tuple[str, str]]:
    """[(layer name, kind)] in forward order; kind is conv/relu/pool."""
    out = []
    for b, n in _BLOCKS:
        for i in range(1, n + 1):
            out += [(f"conv{b}_{i}", "conv"), (f"relu{b}_{i}", "relu")]
        out.append((f"pool{b}", "pool"))
    return out


PLAN = _plan()
LAYERS = tuple(name for name, _ in PLAN)
_INDEX = {name: i for i, name in enumerate(LAYERS)}


def check_layers(layers) -> None:
    bad = [x for x in layers if x not in _INDEX]
    if bad:
        raise ValueError(f"unknown VGG-19 layer(s) {', '.join(map(repr, bad))}; allowed: {', '.join(LAYERS)}")


class VGG19(nn.Module):
    def __init__(self, tensors: dict[str, torch.Tensor], pool: str = "max"):
        super().__init__()
        if pool not in POOLS:
            raise ValueError(f"pool must be one of {', '.join(POOLS)}, not {pool!r}")
        self.pool = pool
        self.convs = nn.ModuleDict()
        for b, n in _BLOCKS:
            for i in range(1, n + 1):
                w, bias = tensors[f"block{b}_conv{i}.weight"], tensors[f"block{b}_conv{i}.bias"]
                conv = nn.Conv2d(w.shape[1], w.shape[0], 3, padding=1)
                with torch.no_grad():
                    conv.weight.copy_(w)
                    conv.bias.copy_(bias)
                self.convs[f"conv{b}_{i}"] = conv
        self.requires_grad_(False)
        self.eval()
        # (1, 3, 1, 1): RGB 0..1 -> BGR 0..255 minus mean
        self.register_buffer("mean", torch.tensor(MEAN_BGR).view(1, 3, 1, 1), persistent=False)

    def preprocess(self, x: torch.Tensor) -> torch.Tensor:
        return x.flip(1) * 255.0 - self.mean

    def forward(self, x: torch.Tensor, layers) -> dict[str, torch.Tensor]:
        """x: (N, 3, H, W) RGB 0..1 -> {layer: (N, C, h, w)} for the layers asked for."""
        want = set(layers)
        check_layers(want)
        last = max(_INDEX[name] for name in want)
        h = self.preprocess(x)
        if x.is_cuda:
            h = h.contiguous(memory_format=torch.channels_last)
        out = {}
        for name, kind in PLAN[: last + 1]:
            if kind == "conv":
                h = self.convs[name](h)
            elif kind == "relu":
                h = F.relu(h)
            elif self.pool == "max":
                h = F.max_pool2d(h, 2)
            else:
                h = F.avg_pool2d(h, 2)
            if name in want:
                out[name] = h
        return out


def build(tensors: dict[str, torch.Tensor], pool: str = "max", device: torch.device | str = "cpu") -> VGG19:
    net = VGG19(tensors, pool).to(device)
    if torch.device(device).type == "cuda":
        net = net.to(memory_format=torch.channels_last)
    return net
