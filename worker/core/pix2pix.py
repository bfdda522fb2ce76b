"""pix2pix U-Net generator (Isola et al. 2017, https://arxiv.org/abs/1611.07004), laid out so its state dict
matches the official pytorch-CycleGAN-and-pix2pix `unet_256` checkpoints (norm "batch") key for key:
`model.model.0.weight` (outermost down conv), `model.model.1.model.1.weight` (next down conv), ... nested one
`.model.3` deeper per level.

Each UnetBlock (outer channels -> inner channels -> back) is
  outermost: [down conv, submodule, ReLU, up convT (bias), Tanh]
  middle:    [LeakyReLU, down conv, norm, submodule, ReLU, up convT, norm, (Dropout 0.5 in the 3 deepest)]
  innermost: [LeakyReLU, down conv, ReLU, up convT, norm]
and concatenates its input to its output (the skip connection), except the outermost.
`num_downs` stride-2 levels (8 for unet_256, 7 for unet_128; >= 5) mean H, W must be multiples of
2**num_downs: `run_padded` pads and crops so any size works. Images are in [-1, 1].

The discriminator is the conditional 70x70 PatchGAN of worker.core.cyclegan (input: condition and image stacked,
6 channels, norm "batch"). Pure: modules and state-dict helpers only, no file I/O.
"""
from __future__ import annotations

import torch
from torch import nn

from worker.core.cyclegan import clean_state, load_strict, norm_layer


class UnetBlock(nn.Module):
    def __init__(self, outer: int, inner: int, in_nc: int | None = None, sub: nn.Module | None = None,
                 outermost: bool = False, innermost: bool = False, norm: str = "batch", dropout: bool = False):
        super().__init__()
        self.outermost = outermost
        bias = norm == "instance"  # BatchNorm's own shift makes a conv bias redundant
        in_nc = outer if in_nc is None else in_nc
        down = nn.Conv2d(in_nc, inner, 4, stride=2, padding=1, bias=bias)
        if outermost:
            layers = [down, sub, nn.ReLU(True), nn.ConvTranspose2d(inner * 2, outer, 4, stride=2, padding=1),
                      nn.Tanh()]
        elif innermost:
            layers = [nn.LeakyReLU(0.2, True), down, nn.ReLU(True),
                      nn.ConvTranspose2d(inner, outer, 4, stride=2, padding=1, bias=bias), norm_layer(norm, outer)]
        else:
            layers = [nn.LeakyReLU(0.2, True), down, norm_layer(norm, inner), sub, nn.ReLU(True),
                      nn.ConvTranspose2d(inner * 2, outer, 4, stride=2, padding=1, bias=bias),
                      norm_layer(norm, outer)]
            if dropout:
                layers.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)  # skip connection: (N, C_x + outer, H, W)


class UnetGenerator(nn.Module):
    """(N, in_nc, H, W) in [-1, 1] -> (N, out_nc, H, W) in [-1, 1]; H, W multiples of 2**num_downs."""

    def __init__(self, in_nc: int = 3, out_nc: int = 3, num_downs: int = 8, ngf: int = 64, norm: str = "batch",
                 dropout: bool = True):
        super().__init__()
        if num_downs < 5 or ngf < 1:
            raise ValueError(f"num_downs must be >= 5 and ngf >= 1, not num_downs={num_downs}, ngf={ngf}")
        self.config = {"family": "unet", "in_nc": in_nc, "out_nc": out_nc, "num_downs": num_downs, "ngf": ngf,
                       "norm": norm, "dropout": dropout}
        self.multiple = 2 ** num_downs
        block = UnetBlock(ngf * 8, ngf * 8, innermost=True, norm=norm)
        for _ in range(num_downs - 5):  # the deepest levels, 8ngf wide, with dropout
            block = UnetBlock(ngf * 8, ngf * 8, sub=block, norm=norm, dropout=dropout)
        block = UnetBlock(ngf * 4, ngf * 8, sub=block, norm=norm)
        block = UnetBlock(ngf * 2, ngf * 4, sub=block, norm=norm)
        block = UnetBlock(ngf, ngf * 2, sub=block, norm=norm)
        self.model = UnetBlock(out_nc, ngf, in_nc=in_nc, sub=block, outermost=True, norm=norm)

    def forward(self, x):
        return self.model(x)


def use_batch_stats(net: nn.Module) -> nn.Module:
    """Make BatchNorm normalise with the statistics of the batch at hand, also in eval mode, as the official
    test script does by default (it never calls eval(); pix2pix trains with batch size 1, so the running
    averages are noisy). Dropout stays off in eval mode, so results are deterministic."""
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.track_running_stats = False
            m.running_mean = None
            m.running_var = None
    return net


def unet_from_state(state: dict) -> UnetGenerator:
    """A UnetGenerator shaped after an official-style state dict (ngf, depth, norm read from the keys), with the
    weights loaded. ValueError when the keys are not that layout."""
    state = clean_state(state)
    first = state.get("model.model.0.weight")
    last = state.get("model.model.3.weight")
    if first is None or last is None or first.dim() != 4 or first.shape[-1] != 4:
        raise ValueError("not a U-Net (pix2pix) generator: no 4x4 'model.model.0.weight'/'model.model.3.weight'")
    ngf, in_nc, out_nc = first.shape[0], first.shape[1], last.shape[1]  # ConvTranspose weight: (in, out, k, k)
    depth, prefix = 1, "model.model.1"
    while f"{prefix}.model.1.weight" in state:
        depth += 1
        if f"{prefix}.model.3.model.1.weight" not in state:
            break
        prefix += ".model.3"
    norm = "batch" if "model.model.1.model.2.running_mean" in state else "instance"
    net = UnetGenerator(in_nc, out_nc, depth, ngf, norm)
    own = net.state_dict()
    # BatchNorm batch counters: absent from checkpoints saved before PyTorch 0.4.1, unused at inference
    state = {k: v for k, v in state.items() if k in own or not k.endswith("num_batches_tracked")}
    state.update({k: v for k, v in own.items() if k.endswith("num_batches_tracked") and k not in state})
    load_strict(net, state)
    return net
