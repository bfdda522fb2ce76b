"""The trainers' options and recipes, torch-free: worker/train/{dcgan,cyclegan,pix2pix}.py train with these
dataclasses, and the train-* commands (worker/cli/train.py) take their flags, defaults and help from their fields,
so `--help` needs no torch. A field with `help` in its metadata is a flag; the others are fixed by the recipe.
Defaults are the papers' recipes: Adam with beta1 0.5 and lr 2e-4 everywhere.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def opt(default: Any, help: str | None = None, **flag: Any) -> Any:
    """A field whose metadata carries its command-line help (and any extra argparse keywords)."""
    return field(default=default, metadata={"help": help, **flag} if help else {})


@dataclass
class Recipe:
    """Fields every trainer has."""
    ngf: int = opt(64, "generator width")
    ndf: int = opt(64, "discriminator width")
    lr: float = opt(2e-4, "Adam learning rate")
    beta1: float = opt(0.5)


@dataclass
class DCGAN(Recipe):
    size: int = opt(64, "training size, the DCGAN generator's output")  # worker.core.dcgan.SIZE
    nz: int = opt(100)  # latent size, worker.core.dcgan.NZ (dcgan.check insists on both)
    real_label: float = opt(0.9, "discriminator target for real images; < 1 is label smoothing")  # Salimans 2016


@dataclass
class CycleGAN(Recipe):
    size: int = opt(256, "training size")
    blocks: int = opt(9, "residual blocks")
    cycle: float = opt(10.0, "cycle loss weight")  # lambda for |G_B(G_A(a)) - a| and |G_A(G_B(b)) - b|
    identity: float = opt(0.5, "identity loss weight, times --cycle")  # for |G_A(b) - b| and |G_B(a) - a|
    pool: int = opt(50)  # past fakes shown to the discriminators
    real_label: float = opt(1.0, "discriminator target for real images; < 1 is label smoothing")


DIRECTIONS = ("AtoB", "BtoA")


@dataclass
class Pix2Pix(Recipe):
    size: int = opt(256, "training size; a multiple of 2**downs")
    downs: int = opt(8, "U-Net levels: 8 = unet_256, 7 = unet_128")
    l1: float = opt(100.0, "L1 loss weight")
    real_label: float = opt(1.0, "discriminator target for real images; < 1 is label smoothing")
    direction: str = opt("AtoB", "AtoB: left half -> right half", choices=DIRECTIONS)


@dataclass(frozen=True)
class Run:
    """How long and in what batches; not part of a checkpoint's config (a resumed run may raise --epochs)."""
    epochs: int
    batch: int


RUNS = {"dcgan": Run(epochs=25, batch=128), "cyclegan": Run(epochs=100, batch=1), "pix2pix": Run(epochs=100, batch=1)}
OPTIONS = {"dcgan": DCGAN, "cyclegan": CycleGAN, "pix2pix": Pix2Pix}
