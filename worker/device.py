"""Device choice and mixed precision: CUDA when present (bf16 autocast, channels_last), else the CPU.

On the CPU, bf16 autocast pays only where the chip has native bf16 dot products (AVX512-BF16 or AMX);
elsewhere it is emulated and slower, so it stays off. Loss maths stays float32 in every case.
"""
from __future__ import annotations

import contextlib
import functools

import torch

from worker import params, settings

DEVICES = params.DEVICES  # the request contract's


def pick(device: str = "auto") -> torch.device:
    if device not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, not {device!r}")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' asked for but no CUDA GPU is available; use 'auto' or 'cpu'")
    return torch.device(device)


@functools.cache
def cpu_has_bf16() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def bf16_ok(device: torch.device) -> bool:
    if settings.get().NO_BF16:  # escape hatch for debugging precision issues
        return False
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return cpu_has_bf16()


def autocast(device: torch.device, enabled: bool = True):
    """bf16 autocast where it helps on this device, else a no-op context."""
    if enabled and bf16_ok(device):
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
