"""Unpaired image-to-image training (CycleGAN, Zhu et al. 2017, https://arxiv.org/abs/1703.10593), the official
recipe: two ResNet generators G_A (A->B) and G_B (B->A), two 70x70 PatchGANs (D_A judges domain B, D_B domain
A), least-squares GAN loss, cycle loss x10, identity loss x5, a pool of 50 past fakes for the discriminators,
Adam(2e-4, beta1=0.5), constant learning rate for the first half of the epochs then linear decay to zero.

Exports MODELS_DIR/translate/<NAME>.safetensors (A->B) and <NAME>_b2a.safetensors (B->A) with the official
key layout, each with a JSON sidecar; `worker.engines.translate` runs them.
"""
from __future__ import annotations

import itertools
import json
from dataclasses import asdict
from pathlib import Path

import torch
import torch.nn.functional as F

from worker.core.cyclegan import PatchDiscriminator, ResnetGenerator, init_weights
from worker.device import autocast
from worker.train import data, options
from worker.train.loop import Task, grid, linear_decay


Options = options.CycleGAN


class Pool:
    """Past fakes for the discriminator (Shrivastava et al. 2017): half the time an older fake is shown."""

    def __init__(self, size: int):
        self.size, self.items = size, []

    def query(self, fakes: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        if self.size == 0:
            return fakes
        out = []
        for img in fakes.detach():
            if len(self.items) < self.size:
                self.items.append(img)
                out.append(img)
            elif torch.rand(1, generator=gen).item() < 0.5:
                i = int(torch.randint(0, self.size, (1,), generator=gen))
                out.append(self.items[i])
                self.items[i] = img
            else:
                out.append(img)
        return torch.stack(out)


def check(opt: Options) -> None:
    if opt.size < 16 or opt.size % 4:
        raise ValueError(f"size must be a multiple of 4, at least 16, not {opt.size}")
    if opt.blocks < 0:
        raise ValueError(f"blocks must be >= 0, not {opt.blocks}")


class CycleTask(Task):
    def __init__(self, a: torch.Tensor, b: torch.Tensor, opt: Options, device: torch.device, name: str,
                 models_root: Path):
        check(opt)
        self.a, self.b = a.to(device), b.to(device)  # uint8 (N, 3, L, L), L = load size
        self.opt, self.device, self.name, self.root = opt, device, name, models_root
        self.n = max(len(a), len(b))
        self.config = {"kind": "cyclegan", **asdict(opt)}
        make_g = lambda: init_weights(ResnetGenerator(3, 3, opt.ngf, opt.blocks)).to(device)  # noqa: E731
        make_d = lambda: init_weights(PatchDiscriminator(3, opt.ndf)).to(device)  # noqa: E731
        self.nets = {"G_A": make_g(), "G_B": make_g(), "D_A": make_d(), "D_B": make_d()}
        g_params = itertools.chain(self.nets["G_A"].parameters(), self.nets["G_B"].parameters())
        d_params = itertools.chain(self.nets["D_A"].parameters(), self.nets["D_B"].parameters())
        self.opts = {"G": torch.optim.Adam(g_params, lr=opt.lr, betas=(opt.beta1, 0.999)),
                     "D": torch.optim.Adam(d_params, lr=opt.lr, betas=(opt.beta1, 0.999))}
        self.pools = {"A": Pool(opt.pool), "B": Pool(opt.pool)}
        k = min(4, len(a), len(b))  # fixed sample images: centre crops of the first few of each domain
        self.fixed_a = data.to_float(_centre(self.a[:k], opt.size))
        self.fixed_b = data.to_float(_centre(self.b[:k], opt.size))

    def schedule(self, step: int, total: int) -> None:
        linear_decay(self.opts, self.opt.lr, step, total)

    def step(self, idx: torch.Tensor, gen: torch.Generator) -> dict[str, float]:
        g_a, g_b, d_a, d_b = (self.nets[k] for k in ("G_A", "G_B", "D_A", "D_B"))
        ia = (idx % len(self.a)).to(self.a.device)
        ib = torch.randint(0, len(self.b), (len(idx),), generator=gen).to(self.b.device)  # unaligned
        (real_a,) = data.augment(self.a[ia], size=self.opt.size, gen=gen)
        (real_b,) = data.augment(self.b[ib], size=self.opt.size, gen=gen)
        real_a, real_b = data.to_float(real_a), data.to_float(real_b)  # (N, 3, S, S) in [-1, 1]
        lam, idt = self.opt.cycle, self.opt.cycle * self.opt.identity

        for d in (d_a, d_b):
            d.requires_grad_(False)
        with autocast(self.device):
            fake_b, fake_a = g_a(real_a), g_b(real_b)
            rec_a, rec_b = g_b(fake_b), g_a(fake_a)
            gan = _lsgan(d_a(fake_b), 1.0) + _lsgan(d_b(fake_a), 1.0)
            cycle = F.l1_loss(rec_a.float(), real_a) + F.l1_loss(rec_b.float(), real_b)
            ident = (F.l1_loss(g_a(real_b).float(), real_b) + F.l1_loss(g_b(real_a).float(), real_a)) if idt else 0
        loss_g = gan + lam * cycle + idt * ident
        self.opts["G"].zero_grad(set_to_none=True)
        loss_g.backward()
        self.opts["G"].step()

        for d in (d_a, d_b):
            d.requires_grad_(True)
        real = self.opt.real_label
        with autocast(self.device):
            fb, fa = self.pools["B"].query(fake_b, gen), self.pools["A"].query(fake_a, gen)
            loss_da = 0.5 * (_lsgan(d_a(real_b), real) + _lsgan(d_a(fb), 0.0))
            loss_db = 0.5 * (_lsgan(d_b(real_a), real) + _lsgan(d_b(fa), 0.0))
        self.opts["D"].zero_grad(set_to_none=True)
        (loss_da + loss_db).backward()
        self.opts["D"].step()
        return {k: float(v.detach()) for k, v in (("G", gan), ("cycle", cycle), ("D_A", loss_da), ("D_B", loss_db))}

    @torch.no_grad()
    def samples(self):
        """One row per fixed image: real | translated | reconstructed (A rows first, then B rows)."""
        g_a, g_b = self.nets["G_A"].eval(), self.nets["G_B"].eval()
        rows = []
        for real, fwd, back in ((self.fixed_a, g_a, g_b), (self.fixed_b, g_b, g_a)):
            fake = fwd(real)
            rows += [torch.stack(t) for t in zip(real, fake, back(fake))]
        return grid(data.to_uint8_images(torch.cat(rows)), nrow=3)

    def export(self, meta: dict) -> list[Path]:
        out = []
        for net, suffix, direction in (("G_A", "", "A->B"), ("G_B", "_b2a", "B->A")):
            info = {"family": "resnet", "trained": True, "direction": direction, "step": meta["step"],
                    "size": self.opt.size, **self.nets[net].config}
            out.append(save_generator(self.root, self.name + suffix, self.nets[net], info))
        return out


def _centre(batch: torch.Tensor, size: int) -> torch.Tensor:
    h, w = batch.shape[-2:]
    y, x = (h - size) // 2, (w - size) // 2
    return batch[..., y:y + size, x:x + size]


def _lsgan(pred: torch.Tensor, target: float) -> torch.Tensor:
    return F.mse_loss(pred.float(), torch.full_like(pred.float(), target))


def save_generator(models_root: Path, name: str, net: torch.nn.Module, info: dict) -> Path:
    """MODELS_DIR/translate/<name>.safetensors (official keys) + <name>.json."""
    from safetensors.torch import save_file

    folder = models_root / "translate"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.safetensors"
    tmp = folder / f".{name}.safetensors.tmp"
    save_file({k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}, str(tmp))
    tmp.replace(path)
    (folder / f"{name}.json").write_text(json.dumps(info, indent=1) + "\n")
    return path


def build(a_dir, b_dir, opt: Options, device: torch.device, name: str, models_root: Path,
          limit: int | None = None) -> CycleTask:
    check(opt)  # before the (slow) loading
    load = data.load_size(opt.size)
    return CycleTask(data.load_folder(a_dir, load, limit), data.load_folder(b_dir, load, limit), opt, device, name,
                     models_root)
