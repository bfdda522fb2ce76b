"""Paired image-to-image training (pix2pix, Isola et al. 2017, https://arxiv.org/abs/1611.07004), the official
recipe: a U-Net generator (BatchNorm, dropout), a conditional 70x70 PatchGAN that sees (input, output) stacked,
the standard GAN loss plus L1 x100, Adam(2e-4, beta1=0.5), batch size 1, constant then linearly decaying rate.

Data: side-by-side images, input on the left and target on the right (`--direction BtoA` swaps them).
Exports MODELS_DIR/translate/<NAME>.safetensors with the official `unet_256` key layout (+ a JSON sidecar).
"""
from __future__ import annotations

import copy
from dataclasses import asdict
from pathlib import Path

import torch
import torch.nn.functional as F

from worker.core.cyclegan import PatchDiscriminator, init_weights
from worker.core.pix2pix import UnetGenerator, use_batch_stats
from worker.device import autocast
from worker.train import data, options
from worker.train.cyclegan import _centre, save_generator
from worker.train.loop import Task, grid, linear_decay

DIRECTIONS = options.DIRECTIONS
Options = options.Pix2Pix


def check(opt: Options) -> None:
    if opt.direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, not {opt.direction!r}")
    if opt.downs < 5 or opt.size % 2 ** opt.downs:
        raise ValueError(f"size {opt.size} must be a multiple of 2**downs = {2 ** opt.downs}, downs >= 5 "
                         "(downs 8 -> 256, 7 -> 128, 5 -> 32)")


class PairTask(Task):
    def __init__(self, a: torch.Tensor, b: torch.Tensor, opt: Options, device: torch.device, name: str,
                 models_root: Path):
        check(opt)
        if opt.direction == "BtoA":
            a, b = b, a
        self.a, self.b = a.to(device), b.to(device)  # aligned uint8 (N, 3, L, L)
        self.opt, self.device, self.name, self.root = opt, device, name, models_root
        self.n = len(a)
        self.config = {"kind": "pix2pix", **asdict(opt)}
        self.nets = {"G": init_weights(UnetGenerator(3, 3, opt.downs, opt.ngf)).to(device),
                     "D": init_weights(PatchDiscriminator(6, opt.ndf, norm="batch")).to(device)}
        self.opts = {k: torch.optim.Adam(net.parameters(), lr=opt.lr, betas=(opt.beta1, 0.999))
                     for k, net in self.nets.items()}
        k = min(4, self.n)
        self.fixed = (data.to_float(_centre(self.a[:k], opt.size)), data.to_float(_centre(self.b[:k], opt.size)))

    def schedule(self, step: int, total: int) -> None:
        linear_decay(self.opts, self.opt.lr, step, total)

    def step(self, idx: torch.Tensor, gen: torch.Generator) -> dict[str, float]:
        g, d = self.nets["G"], self.nets["D"]
        idx = idx.to(self.a.device)
        real_a, real_b = (data.to_float(t) for t in data.augment(self.a[idx], self.b[idx], size=self.opt.size,
                                                                   gen=gen))
        with autocast(self.device):
            fake_b = g(real_a)  # (N, 3, S, S)
            pred_fake = d(torch.cat([real_a, fake_b.detach()], 1))
            pred_real = d(torch.cat([real_a, real_b], 1))
            loss_d = 0.5 * (_bce(pred_fake, 0.0) + _bce(pred_real, self.opt.real_label))
        self.opts["D"].zero_grad(set_to_none=True)
        loss_d.backward()
        self.opts["D"].step()

        d.requires_grad_(False)
        with autocast(self.device):
            gan = _bce(d(torch.cat([real_a, fake_b], 1)), 1.0)
            l1 = F.l1_loss(fake_b.float(), real_b)
        loss_g = gan + self.opt.l1 * l1
        self.opts["G"].zero_grad(set_to_none=True)
        loss_g.backward()
        self.opts["G"].step()
        d.requires_grad_(True)
        return {k: float(v.detach()) for k, v in (("G", gan), ("L1", l1), ("D", loss_d))}

    @torch.no_grad()
    def samples(self):
        """One row per fixed pair: input | output | target, run as translate runs it (one image at a time,
        BatchNorm on the image's own statistics, no dropout)."""
        net = use_batch_stats(copy.deepcopy(self.nets["G"])).eval()
        a, b = self.fixed
        rows = [torch.stack([a[i], net(a[i:i + 1])[0], b[i]]) for i in range(len(a))]
        return grid(data.to_uint8_images(torch.cat(rows)), nrow=3)

    def export(self, meta: dict) -> list[Path]:
        info = {"family": "unet", "trained": True, "direction": self.opt.direction, "step": meta["step"],
                "size": self.opt.size, **self.nets["G"].config}
        return [save_generator(self.root, self.name, self.nets["G"], info)]


def _bce(pred: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(pred.float(), torch.full_like(pred.float(), target))


def build(folder, opt: Options, device: torch.device, name: str, models_root: Path,
          limit: int | None = None) -> PairTask:
    check(opt)  # before the (slow) loading
    a, b = data.load_pairs(folder, data.load_size(opt.size), limit)
    return PairTask(a, b, opt, device, name, models_root)
