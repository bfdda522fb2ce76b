"""CycleGAN networks (Zhu et al. 2017, https://arxiv.org/abs/1703.10593): the ResNet generator and the 70x70
PatchGAN discriminator, laid out so their state dicts match the official pytorch-CycleGAN-and-pix2pix
checkpoints key for key (`model.1.weight`, `model.10.conv_block.1.weight`, ...), e.g. a published
`style_monet.pth` generator loads as is.

Official layout (norm "instance": InstanceNorm2d without affine parameters, so convolutions carry a bias):
  model.0 ReflectionPad(3), model.1 Conv7x7(in->ngf), model.2 IN, model.3 ReLU       c7s1-ngf
  model.4/7 Conv3x3 stride 2 (ngf->2ngf->4ngf), + IN + ReLU                        two downsamplings
  model.10 .. model.(10+n-1) ResnetBlock(4ngf): conv_block = pad, conv, IN, ReLU, [Dropout], pad, conv, IN
  two ConvTranspose3x3 stride 2 (4ngf->2ngf->ngf) + IN + ReLU                      two upsamplings
  ReflectionPad(3), Conv7x7(ngf->out) with bias, Tanh                             c7s1-3
Images are in [-1, 1]. The generator is fully convolutional: any H, W divisible by 4 (`MULTIPLE`).

Variant "instance_affine" (e.g. vintagify's G_A2B, the bundled `vintage` model): the same layers with affine
InstanceNorm (`model.2.weight/bias` beside the conv biases) and residual blocks keyed `model.N.block.K` instead
of `model.N.conv_block.K`; clean_state maps those keys onto the official names, resnet_from_state reads the norm.

Pure: modules and state-dict helpers only, no file I/O.
"""
from __future__ import annotations

import torch
from torch import nn

MULTIPLE = 4  # two stride-2 downsamplings
NORMS = ("instance", "batch", "instance_affine")


def norm_layer(kind: str, ch: int) -> nn.Module:
    if kind in ("instance", "instance_affine"):
        return nn.InstanceNorm2d(ch, affine=kind == "instance_affine", track_running_stats=False)
    if kind == "batch":
        return nn.BatchNorm2d(ch, affine=True)
    raise ValueError(f"norm must be one of {', '.join(NORMS)}, not {kind!r}")


class ResnetBlock(nn.Module):
    def __init__(self, dim: int, norm: str = "instance", dropout: bool = False):
        super().__init__()
        bias = norm != "batch"  # the official rule: a conv before a BatchNorm needs no bias
        layers = [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=bias), norm_layer(norm, dim), nn.ReLU(True)]
        if dropout:
            layers.append(nn.Dropout(0.5))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=bias), norm_layer(norm, dim)]
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    """(N, in_nc, H, W) in [-1, 1] -> (N, out_nc, H, W) in [-1, 1]; H, W divisible by 4."""

    multiple = MULTIPLE

    def __init__(self, in_nc: int = 3, out_nc: int = 3, ngf: int = 64, n_blocks: int = 9,
                 norm: str = "instance", dropout: bool = False):
        super().__init__()
        if n_blocks < 0 or ngf < 1:
            raise ValueError(f"ngf must be >= 1 and n_blocks >= 0, not ngf={ngf}, n_blocks={n_blocks}")
        self.config = {"family": "resnet", "in_nc": in_nc, "out_nc": out_nc, "ngf": ngf, "n_blocks": n_blocks,
                       "norm": norm, "dropout": dropout}
        bias = norm != "batch"
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(in_nc, ngf, 7, bias=bias), norm_layer(norm, ngf), nn.ReLU(True)]
        for i in range(2):  # downsample: ngf -> 2ngf -> 4ngf, H/4
            c = ngf * 2 ** i
            layers += [nn.Conv2d(c, c * 2, 3, stride=2, padding=1, bias=bias), norm_layer(norm, c * 2), nn.ReLU(True)]
        layers += [ResnetBlock(ngf * 4, norm, dropout) for _ in range(n_blocks)]
        for i in range(2):  # upsample back: 4ngf -> 2ngf -> ngf, H
            c = ngf * 2 ** (2 - i)
            layers += [nn.ConvTranspose2d(c, c // 2, 3, stride=2, padding=1, output_padding=1, bias=bias),
                       norm_layer(norm, c // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, out_nc, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


class PatchDiscriminator(nn.Module):
    """The official NLayerDiscriminator: with n_layers=3 each output logit sees a 70x70 patch.

    (N, in_nc, H, W) -> (N, 1, H/8 - 2, W/8 - 2) raw logits (no sigmoid; the loss decides)."""

    def __init__(self, in_nc: int = 3, ndf: int = 64, n_layers: int = 3, norm: str = "instance"):
        super().__init__()
        bias = norm != "batch"
        layers = [nn.Conv2d(in_nc, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers + 1):
            prev, mult = mult, min(2 ** n, 8)
            stride = 2 if n < n_layers else 1  # the last feature layer keeps the resolution
            layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride=stride, padding=1, bias=bias),
                       norm_layer(norm, ndf * mult), nn.LeakyReLU(0.2, True)]
        layers.append(nn.Conv2d(ndf * mult, 1, 4, stride=1, padding=1))
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


def init_weights(net: nn.Module, gain: float = 0.02) -> nn.Module:
    """The official 'normal' init: conv weights N(0, 0.02), biases 0, BatchNorm weights N(1, 0.02)."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, gain)
            nn.init.zeros_(m.bias)
    return net


def clean_state(state: dict) -> dict:
    """Official checkpoints as they come: drop a DataParallel `module.` prefix, pickled metadata, and the
    InstanceNorm running statistics that checkpoints from before PyTorch 0.4 carry (the official loader drops
    them too); residual blocks keyed `model.N.block.K` (vintagify) get the official `model.N.conv_block.K`.
    Non-tensors are refused."""
    out = {}
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise ValueError(f"checkpoint entry {key!r} is not a tensor; expected a generator state dict")
        key = key[len("module."):] if key.startswith("module.") else key
        parts = key.split(".")
        if len(parts) == 5 and parts[0] == "model" and parts[2] == "block":  # model.N.block.K.weight
            parts[2] = "conv_block"
            key = ".".join(parts)
        if key in out:
            raise ValueError(f"checkpoint holds {key!r} twice (as block and conv_block)")
        out[key] = value
    return out


def _drop_instance_stats(state: dict, net: nn.Module) -> dict:
    wanted = set(net.state_dict())
    stats = ("running_mean", "running_var", "num_batches_tracked")
    return {k: v for k, v in state.items() if k in wanted or not k.endswith(stats)}


def resnet_from_state(state: dict) -> ResnetGenerator:
    """A ResnetGenerator shaped after an official-style state dict (ngf, blocks, norm, dropout read from the
    keys), with the weights loaded. ValueError when the keys are not that layout."""
    state = clean_state(state)
    first = state.get("model.1.weight")
    if first is None or first.dim() != 4 or first.shape[-1] != 7:
        raise ValueError("not a ResNet (CycleGAN) generator: no 7x7 'model.1.weight'")
    ngf, in_nc = first.shape[0], first.shape[1]
    blocks = sorted({int(k.split(".")[1]) for k in state if ".conv_block." in k})
    if blocks != list(range(10, 10 + len(blocks))):
        raise ValueError(f"not a ResNet generator: residual blocks at model.{blocks}")
    second = state.get("model.10.conv_block.6.weight")  # the second conv, shifted from 5 to 6 by a Dropout
    dropout = second is not None and second.dim() == 4  # (with norm parameters, 6 is the second norm's weight)
    affine = "model.2.weight" in state  # norm parameters after the first conv: BatchNorm or affine InstanceNorm
    norm = ("batch" if "model.2.running_mean" in state else "instance_affine") if affine else "instance"
    last = state.get(f"model.{10 + len(blocks) + 7}.weight")
    if last is None:
        raise ValueError("not a ResNet generator: the final 7x7 conv is missing")
    net = ResnetGenerator(in_nc, last.shape[0], ngf, len(blocks), norm, dropout)
    load_strict(net, _drop_instance_stats(state, net))
    return net


def load_strict(net: nn.Module, state: dict) -> None:
    """load_state_dict(strict) with a short message naming the first mismatches."""
    own = net.state_dict()
    missing = [k for k in own if k not in state]
    extra = [k for k in state if k not in own]
    bad = [k for k in own if k in state and own[k].shape != state[k].shape]
    if missing or extra or bad:
        raise ValueError(f"state dict does not fit {type(net).__name__}: missing {missing[:3]}, unexpected "
                         f"{extra[:3]}, wrong shape {bad[:3]}")
    net.load_state_dict(state)
