"""RRDBNet, the Real-ESRGAN x4plus generator: 23 residual-in-residual dense blocks, 64 features, growth 32, x4.

ESRGAN (Wang et al. 2018, https://arxiv.org/abs/1809.00219) introduced the network; Real-ESRGAN (Wang et al.
2021, https://arxiv.org/abs/2107.10833) retrained it on synthetic real-world degradations (blur, noise, JPEG),
which is why it sharpens photos and paintings without amplifying their compression noise. Layer names follow
BasicSR's `rrdbnet_arch.py`, so the official PyTorch checkpoints would load too; ours come from the ncnn export
(worker/convert_ncnn.py). 16.7 M parameters; input and output are RGB in 0..1.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

SCALE = 4


def _lrelu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2, inplace=True)


class DenseBlock(nn.Module):
    """Five 3x3 convs, each seeing the block input and every earlier output (dense concat); residual x 0.2."""

    def __init__(self, nf: int = 64, gc: int = 32):
        super().__init__()
        self.conv1 = nn.Conv2d(nf, gc, 3, 1, 1)
        self.conv2 = nn.Conv2d(nf + gc, gc, 3, 1, 1)
        self.conv3 = nn.Conv2d(nf + 2 * gc, gc, 3, 1, 1)
        self.conv4 = nn.Conv2d(nf + 3 * gc, gc, 3, 1, 1)
        self.conv5 = nn.Conv2d(nf + 4 * gc, nf, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = _lrelu(self.conv1(x))
        x2 = _lrelu(self.conv2(torch.cat((x, x1), 1)))
        x3 = _lrelu(self.conv3(torch.cat((x, x1, x2), 1)))
        x4 = _lrelu(self.conv4(torch.cat((x, x1, x2, x3), 1)))
        x5 = self.conv5(torch.cat((x, x1, x2, x3, x4), 1))
        return x5 * 0.2 + x  # residual scaling keeps the deep trunk stable (ESRGAN sec. 3.2)


class RRDB(nn.Module):
    """Residual in residual: three dense blocks, then the block's own residual, again scaled by 0.2."""

    def __init__(self, nf: int = 64, gc: int = 32):
        super().__init__()
        self.rdb1, self.rdb2, self.rdb3 = DenseBlock(nf, gc), DenseBlock(nf, gc), DenseBlock(nf, gc)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rdb3(self.rdb2(self.rdb1(x))) * 0.2 + x


class RRDBNet(nn.Module):
    def __init__(self, blocks: int = 23, nf: int = 64, gc: int = 32):
        super().__init__()
        # shallow features, at the input resolution
        self.conv_first = nn.Conv2d(3, nf, 3, 1, 1)
        # trunk: the RRDBs and one conv, added back to the shallow features (long skip)
        self.body = nn.Sequential(*(RRDB(nf, gc) for _ in range(blocks)))
        self.conv_body = nn.Conv2d(nf, nf, 3, 1, 1)
        # upsampling: twice (nearest x2, conv, leaky ReLU) -> x4
        self.conv_up1 = nn.Conv2d(nf, nf, 3, 1, 1)
        self.conv_up2 = nn.Conv2d(nf, nf, 3, 1, 1)
        # reconstruction at the output resolution
        self.conv_hr = nn.Conv2d(nf, nf, 3, 1, 1)
        self.conv_last = nn.Conv2d(nf, 3, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, h, w) RGB in 0..1 -> (N, 3, 4h, 4w), roughly 0..1 (not clamped)."""
        feat = self.conv_first(x)
        feat = feat + self.conv_body(self.body(feat))
        feat = _lrelu(self.conv_up1(F.interpolate(feat, scale_factor=2, mode="nearest")))
        feat = _lrelu(self.conv_up2(F.interpolate(feat, scale_factor=2, mode="nearest")))
        return self.conv_last(_lrelu(self.conv_hr(feat)))
