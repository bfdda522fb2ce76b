"""DCGAN training on a folder of the user's images (Radford et al. 2016, https://arxiv.org/abs/1511.06434), with
the generator of the bundled face model (worker.core.dcgan.Generator, the PyTorch tutorial layout, 64x64) so a
trained generator drops into portraits like the bundled one.

The usual stabilisers: one-sided label smoothing (real targets 0.9), Adam(2e-4, beta1=0.5), N(0, 0.02) init,
BatchNorm, a discriminator without a sigmoid (BCE on logits is the stable form of the same loss).
The sample grid uses the fixed latents of seeds 0..63: cell k is what `portrait --generator NAME --seed k` paints.

Exports MODELS_DIR/generators/<NAME>/weights.safetensors + config.json (see worker.generators).
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from worker.core.cyclegan import init_weights
from worker.core.dcgan import NC, NZ, SIZE, Generator, latents
from worker.device import autocast
from worker.train import data, options
from worker.train.loop import Task, grid

SIZES = (SIZE,)  # the generator family's output size
SAMPLE_SEEDS = list(range(64))


class Discriminator(nn.Module):
    """The tutorial's discriminator without the final sigmoid: (N, 3, 64, 64) -> (N,) real/fake logits."""

    def __init__(self, ndf: int = 64, nc: int = NC):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True),  # 64 -> 32
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, True),  # 16
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2, True),  # 8
            nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 8), nn.LeakyReLU(0.2, True),  # 4
            nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False),  # 4x4 -> 1 logit
        )

    def forward(self, x):
        return self.main(x).flatten()


Options = options.DCGAN
assert (Options.size, Options.nz) == (SIZE, NZ), "worker/train/options.py DCGAN must match worker.core.dcgan"


def check(opt: Options) -> None:
    if opt.size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(map(str, SIZES))} (the DCGAN generator's output), "
                         f"not {opt.size}")


class GanTask(Task):
    def __init__(self, images: torch.Tensor, opt: Options, device: torch.device, name: str, models_root: Path,
                 source: str = ""):
        check(opt)
        self.images = images.to(device)  # uint8 (N, 3, 64, 64)
        self.opt, self.device, self.name, self.root, self.source = opt, device, name, models_root, source
        self.n = len(images)
        self.config = {"kind": "dcgan", **asdict(opt)}
        self.nets = {"G": init_weights(Generator(opt.nz, opt.ngf)).to(device),
                     "D": init_weights(Discriminator(opt.ndf)).to(device)}
        self.opts = {k: torch.optim.Adam(net.parameters(), lr=opt.lr, betas=(opt.beta1, 0.999))
                     for k, net in self.nets.items()}
        self.fixed = latents(SAMPLE_SEEDS, opt.nz).to(device)  # (64, nz, 1, 1)

    def step(self, idx: torch.Tensor, gen: torch.Generator) -> dict[str, float]:
        g, d = self.nets["G"], self.nets["D"]
        (real,) = data.augment(self.images[idx.to(self.images.device)], size=self.opt.size, gen=gen)  # flips
        real = data.to_float(real)
        z = torch.randn(len(idx), self.opt.nz, 1, 1, generator=gen).to(self.device)
        with autocast(self.device):
            fake = g(z)  # (N, 3, 64, 64)
            loss_d = _bce(d(real), self.opt.real_label) + _bce(d(fake.detach()), 0.0)
        self.opts["D"].zero_grad(set_to_none=True)
        loss_d.backward()
        self.opts["D"].step()

        d.requires_grad_(False)
        with autocast(self.device):
            out = d(fake)
            loss_g = _bce(out, 1.0)
        self.opts["G"].zero_grad(set_to_none=True)
        loss_g.backward()
        self.opts["G"].step()
        d.requires_grad_(True)
        return {"G": float(loss_g.detach()), "D": float(loss_d.detach()),
                "D(fake)": float(torch.sigmoid(out.detach().float()).mean())}

    @torch.no_grad()
    def samples(self):
        """8x8 grid of the fixed latents (seeds 0..63), the generator in eval mode as portraits run it."""
        return grid(data.to_uint8_images(self.nets["G"].eval()(self.fixed)), nrow=8)

    def export(self, meta: dict) -> list[Path]:
        return [save_generator(self.root, self.name, self.nets["G"], {
            "family": "dcgan", "nz": self.opt.nz, "ngf": self.opt.ngf, "nc": NC, "size": self.opt.size,
            "step": meta["step"], "epochs": meta["step"] // max(meta.get("per_epoch", 1), 1), "images": self.n,
            "data": self.source, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "licence": "yours: trained on your own images"})]


def _bce(pred: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(pred.float(), torch.full_like(pred.float(), target))


def save_generator(models_root: Path, name: str, net: nn.Module, config: dict) -> Path:
    """MODELS_DIR/generators/<name>/weights.safetensors (the bundled model's keys) + config.json, replaced
    atomically one file at a time (weights first, so a listed generator always has weights)."""
    from safetensors.torch import save_file

    folder = models_root / "generators" / name
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()
               if not k.endswith("num_batches_tracked")}
    save_file(tensors, str(folder / ".weights.tmp"))
    (folder / ".weights.tmp").replace(folder / "weights.safetensors")
    (folder / ".config.tmp").write_text(json.dumps(config, indent=1) + "\n")
    (folder / ".config.tmp").replace(folder / "config.json")
    return folder


def build(folder, opt: Options, device: torch.device, name: str, models_root: Path,
          limit: int | None = None) -> GanTask:
    check(opt)  # before the (slow) loading
    return GanTask(data.load_folder(folder, opt.size, limit), opt, device, name, models_root,
                   source=Path(folder).name)
