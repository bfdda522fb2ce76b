"""DCGAN face generator: a 100-number latent code -> a 64x64 face.

Radford, Metz, Chintala 2016, "Unsupervised Representation Learning with Deep Convolutional GANs"
(https://arxiv.org/abs/1511.06434), in the layout of the PyTorch DCGAN tutorial
(https://pytorch.org/tutorials/beginner/dcgan_faces_tutorial.html): nz=100, ngf=64, nc=3, output in [-1, 1].
The weights (gan-face-generate==1.1.1) were trained on DigiFace-1M, which is licensed for research only.
Parameter names match the tutorial's `main.N.*` so its netG_state_dict loads as is.
"""
from __future__ import annotations

import torch
from torch import nn

NZ, NGF, NC = 100, 64, 3
SIZE = 64


class Generator(nn.Module):
    """(N, 100, 1, 1) latents -> (N, 3, 64, 64) images in [-1, 1]."""

    def __init__(self, nz: int = NZ, ngf: int = NGF, nc: int = NC):
        super().__init__()
        self.main = nn.Sequential(
            # latent -> 4x4, ngf*8 channels
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
            # 4 -> 8 -> 16 -> 32: each a stride-2 transposed conv halving the channels
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
            # 32 -> 64, to RGB in [-1, 1]
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z)


def _check_seed(s) -> None:
    if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s < 2**63:
        raise ValueError(f"seed must be an integer 0..2**63-1, not {s!r}")


def check_truncation(t) -> None:
    if t is not None and (isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 < t <= 4):
        raise ValueError(f"truncation must be a number above 0 and at most 4 (or none), not {t!r}")


def latents(seeds: list[int], nz: int = NZ) -> torch.Tensor:
    """(N, nz, 1, 1) standard normal codes, one per seed, independent of device and of batch composition."""
    for s in seeds:
        _check_seed(s)
    return torch.stack([torch.randn(nz, 1, 1, generator=torch.Generator().manual_seed(s)) for s in seeds])


def candidates(seed: int, k: int = 1, truncation: float | None = None, nz: int = NZ) -> torch.Tensor:
    """(k, nz, 1, 1) latents drawn in turn from one generator seeded with `seed`, on the CPU (so the same on
    every device). Candidate 0 without truncation is exactly `latents([seed])`.

    truncation t: the truncation trick (Brock et al. 2019, https://arxiv.org/abs/1809.11096): components beyond
    +-t are drawn again (from the same stream, so still seeded) until none is; then the code is rescaled to
    sqrt(nz), the typical norm of a standard normal code. Scaling a code toward 0 instead (x0.7) was measured to
    wash this generator's faces out (low contrast, checkerboard texture): its BatchNorm expects norm ~sqrt(nz).
    """
    _check_seed(seed)
    check_truncation(truncation)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 64:
        raise ValueError(f"candidates must be an integer from 1 to 64, not {k!r}")
    gen = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(k):
        z = torch.randn(nz, generator=gen)
        if truncation is not None:
            while (bad := z.abs() > truncation).any():
                z[bad] = torch.randn(int(bad.sum()), generator=gen)
            z = z * (nz ** 0.5 / z.norm())
        out.append(z.view(nz, 1, 1))
    return torch.stack(out)


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation between latents (White 2016, https://arxiv.org/abs/1609.04468): keeps the
    norm typical of Gaussian samples, unlike a straight line. t=0 gives exactly a, t=1 exactly b."""
    if t <= 0:
        return a.clone()
    if t >= 1:
        return b.clone()
    af, bf = a.flatten(), b.flatten()
    cos = torch.dot(af, bf) / (af.norm() * bf.norm())
    omega = torch.arccos(cos.clamp(-1 + 1e-7, 1 - 1e-7))
    so = torch.sin(omega)
    if so.abs() < 1e-6:
        return (1 - t) * a + t * b
    return (torch.sin((1 - t) * omega) / so) * a + (torch.sin(t * omega) / so) * b
