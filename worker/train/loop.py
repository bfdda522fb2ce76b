"""The training loop the three trainers share: epochs of shuffled batches, a progress bar on stderr, a sample
grid per epoch, a loss plot, resumable checkpoints and the export of the generator.

A run directory holds
  checkpoint-<step>.safetensors  every network's weights and the optimisers' tensors (Adam moments, step)
  checkpoint.json                config, step, loss history, optimiser hyper-parameters, the weights file name
  samples/epoch-0001.png         the sample grid after each epoch (a fixed latent batch / fixed test images)
  losses.png                     the loss curves (matplotlib)
No pickle anywhere: a checkpoint is safetensors + JSON. The JSON is written last, so an interrupted save leaves
the previous checkpoint intact.

Resuming replays the data order exactly: the order of epoch e is a permutation seeded by (seed, e), and a run
resumed mid-epoch skips the batches it already did.
"""
from __future__ import annotations

import json
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import torch
from PIL import Image
from tqdm import tqdm

from worker.engines import Canceled, Progress
from worker.params import NAME_RE


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name) or ".." in name:
        raise ValueError(f"name must be 1-64 letters, digits, '_', '-' or '.', starting with a letter or digit, "
                         f"not {name!r}")
    return name


class Task:
    """What a trainer supplies to `fit`. Subclasses set nets, opts, n (dataset size) and config."""

    nets: dict[str, torch.nn.Module]
    opts: dict[str, torch.optim.Optimizer]
    n: int
    config: dict

    def schedule(self, step: int, total: int) -> None:
        """Adjust learning rates before a step (default: constant)."""


def linear_decay(opts: dict, lr: float, step: int, total: int) -> None:
    """The official CycleGAN/pix2pix schedule: constant for the first half, then linearly down to zero."""
    keep = total // 2
    factor = 1.0 - max(0, step - keep) / max(total - keep, 1)
    for o in opts.values():
        for group in o.param_groups:
            group["lr"] = lr * factor

    def step(self, idx: torch.Tensor, gen: torch.Generator) -> dict[str, float]:
        raise NotImplementedError

    def samples(self) -> Image.Image:
        raise NotImplementedError

    def export(self, meta: dict) -> list[Path]:
        """Write the usable generator(s); returns the paths written."""
        raise NotImplementedError


@dataclass
class Result:
    step: int
    total: int
    losses: dict[str, float]
    run_dir: Path
    samples: list[Path] = field(default_factory=list)
    exported: list[Path] = field(default_factory=list)
    resumed_from: int = 0


# --- checkpoints ---------------------------------------------------------------------------------------------

def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def save_checkpoint(run_dir: Path, nets: dict, opts: dict, meta: dict) -> Path:
    """Weights and optimiser tensors -> safetensors; everything else (and the weights file's name) -> JSON."""
    from safetensors.torch import save as st_save

    tensors, groups = {}, {}
    for name, net in nets.items():
        for key, value in net.state_dict().items():
            tensors[f"net.{name}.{key}"] = value.detach().cpu().contiguous()
    for name, opt in opts.items():
        sd = opt.state_dict()
        groups[name] = sd["param_groups"]
        for idx, state in sd["state"].items():
            for key, value in state.items():
                tensors[f"opt.{name}.{idx}.{key}"] = torch.as_tensor(value).detach().cpu().contiguous()
    weights = run_dir / f"checkpoint-{meta['step']:08d}.safetensors"
    _atomic_write(weights, st_save(tensors))
    meta = {**meta, "weights": weights.name, "param_groups": groups}
    old = read_meta(run_dir)
    _atomic_write(run_dir / "checkpoint.json", (json.dumps(meta, indent=1) + "\n").encode())
    if old and old.get("weights") != weights.name:
        (run_dir / old["weights"]).unlink(missing_ok=True)
    return weights


def read_meta(run_dir: Path) -> dict | None:
    try:
        return json.loads((run_dir / "checkpoint.json").read_text())
    except (OSError, ValueError):
        return None


def load_checkpoint(run_dir: Path, nets: dict, opts: dict, device: torch.device) -> dict | None:
    """Restore nets and optimisers in place; the checkpoint's meta, or None when the run dir has none."""
    from safetensors.torch import load_file

    meta = read_meta(run_dir)
    if meta is None:
        return None
    tensors = load_file(str(run_dir / meta["weights"]), device=str(device))
    for name, net in nets.items():
        prefix = f"net.{name}."
        net.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
    for name, opt in opts.items():
        prefix = f"opt.{name}."
        state: dict[int, dict] = {}
        for k, v in tensors.items():
            if k.startswith(prefix):
                idx, key = k[len(prefix):].split(".", 1)
                state.setdefault(int(idx), {})[key] = v
        for s in state.values():  # Adam keeps its step counter as a CPU float tensor
            if "step" in s:
                s["step"] = s["step"].cpu()
        groups = [{**g, "betas": tuple(g["betas"])} if "betas" in g else g for g in meta["param_groups"][name]]
        opt.load_state_dict({"state": state, "param_groups": groups})  # JSON made the betas tuple a list
    return meta


# --- pictures --------------------------------------------------------------------------------------------------

def grid(batch: torch.Tensor, nrow: int, pad: int = 2) -> Image.Image:
    """uint8 (N, 3, H, W) -> one PIL image, nrow images per row, `pad` px white between."""
    n, _, h, w = batch.shape
    rows = math.ceil(n / nrow)
    out = Image.new("RGB", (nrow * (w + pad) + pad, rows * (h + pad) + pad), "white")
    for i in range(n):
        tile = Image.fromarray(batch[i].permute(1, 2, 0).numpy(), "RGB")
        out.paste(tile, (pad + (i % nrow) * (w + pad), pad + (i // nrow) * (h + pad)))
    return out


def plot_losses(history: list[dict], size: tuple[int, int] = (800, 420)) -> Image.Image:
    """Loss curves (one line per loss, step on x), drawn by matplotlib's Agg canvas (no display needed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size[0] / 100, size[1] / 100), dpi=100)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    names = sorted({k for row in history for k in row if k != "step"})
    for name in names:
        pts = [(row["step"], row[name]) for row in history if math.isfinite(row.get(name, math.nan))]
        steps, values = [p[0] for p in pts], [p[1] for p in pts]
        ax.plot(steps, values, label=name, linewidth=2, marker="o" if len(pts) == 1 else None)
    if names:
        ax.legend(loc="upper right")
    else:
        ax.text(0.5, 0.5, "no losses yet", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    canvas.draw()
    return Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba()).convert("RGB")


def progress_bar(total: int, start: int = 0, stream=None) -> tqdm:
    """tqdm on stderr: percent, epoch, step, rate, time left and the latest losses (set by fit)."""
    return tqdm(total=total, initial=start, file=stream or sys.stderr, unit="step", smoothing=0.1,
                bar_format="{percentage:3.0f}% {desc} step {n_fmt}/{total_fmt} |{bar:24}| {rate_fmt} "
                           "eta {remaining}{postfix}")


# --- the loop ------------------------------------------------------------------------------------------------

def order(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The data order of one epoch, reproducible from (seed, epoch) alone so resume replays it."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))


def fit(task: Task, run_dir: Path, *, epochs: int, batch: int, seed: int = 0, max_steps: int | None = None,
        resume: bool = True, device: torch.device, log_every: int = 10,
        on_progress: Optional[Callable[[Progress], None]] = None,
        should_cancel: Optional[Callable[[], bool]] = None, stream=None) -> Result:
    """Train until `epochs` epochs are done (counting those of a resumed checkpoint) or `max_steps` more steps
    ran. Raises Canceled (after saving) when should_cancel() says so, FloatingPointError when a loss goes
    NaN/inf (the last good checkpoint stays)."""
    if epochs < 1 or batch < 1:
        raise ValueError(f"epochs and batch must be >= 1, not epochs={epochs}, batch={batch}")
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "samples").mkdir(exist_ok=True)
    batch = min(batch, task.n)
    per_epoch = task.n // batch  # the ragged last batch is dropped (BatchNorm dislikes tiny batches)
    total = epochs * per_epoch
    meta = load_checkpoint(run_dir, task.nets, task.opts, device) if resume else None
    if meta and (meta["config"] != task.config or meta["batch"] != batch or meta["seed"] != seed):
        raise ValueError(f"{run_dir} holds a checkpoint of a different run ({meta['config']}, batch "
                         f"{meta['batch']}, seed {meta['seed']}); use another --run-dir or start --fresh")
    step = meta["step"] if meta else 0
    history = meta["history"] if meta else []
    result = Result(step, total, {}, run_dir, resumed_from=step)
    bar = progress_bar(total, step, stream)
    sums: dict[str, float] = {}
    count, ran = 0, 0

    def flush() -> None:
        nonlocal sums, count
        if count:
            history.append({"step": step, **{n: s / count for n, s in sums.items()}})
        sums, count = {}, 0

    def save() -> None:
        flush()
        epoch_done = step // per_epoch
        info = {"config": task.config, "step": step, "epoch": epoch_done, "batch": batch, "seed": seed,
                "epochs": epochs, "per_epoch": per_epoch, "history": history}
        pic = task.samples()
        path = run_dir / "samples" / (f"epoch-{epoch_done:04d}.png" if step % per_epoch == 0
                                      else f"step-{step:08d}.png")
        pic.save(path)
        result.samples.append(path)
        plot_losses(history).save(run_dir / "losses.png")
        save_checkpoint(run_dir, task.nets, task.opts, info)
        result.exported = task.export(info)
        if on_progress:
            on_progress(Progress(step, total, dict(result.losses), pic))

    try:
        while step < total and (max_steps is None or ran < max_steps):
            epoch, k = divmod(step, per_epoch)
            idx = order(task.n, seed, epoch)[k * batch:(k + 1) * batch]
            task.schedule(step, total)
            for net in task.nets.values():
                net.train()
            losses = task.step(idx, torch.Generator().manual_seed(seed * 7_919 + step))
            bad = [name for name, v in losses.items() if not math.isfinite(v)]
            if bad:
                raise FloatingPointError(f"loss {', '.join(bad)} went NaN/inf at step {step + 1}; lower the learning "
                                         f"rate or check the data (last good checkpoint in {run_dir})")
            step, ran, count = step + 1, ran + 1, count + 1
            for name, v in losses.items():
                sums[name] = sums.get(name, 0.0) + v
            result.losses, result.step = losses, step
            if count >= log_every:
                flush()
            bar.set_description_str(f"epoch {step // per_epoch + (step % per_epoch > 0)}/{epochs}", refresh=False)
            bar.set_postfix_str(" ".join(f"{k}={v:.3f}" for k, v in losses.items()), refresh=False)
            bar.update(1)
            if step % per_epoch == 0:
                save()
            elif on_progress:
                on_progress(Progress(step, total, dict(losses)))
            if should_cancel and should_cancel():
                if step % per_epoch:
                    save()
                raise Canceled(f"training stopped at step {step}; run again to resume")
        if step % per_epoch != 0 and ran:  # stopped mid-epoch by max_steps: keep what was learned
            save()
        elif not result.samples and not ran:  # nothing to do (already trained): export anyway
            result.exported = task.export({"config": task.config, "step": step, "epochs": epochs, "batch": batch,
                                           "seed": seed, "history": history})
    except KeyboardInterrupt:
        if ran:
            save()
        raise
    finally:
        bar.close()
    return result
