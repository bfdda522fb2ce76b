"""PIL-in, PIL-out engines over the pure core: what the CLI and the Celery tasks both call.

Each engine module loads its models once per process (from the cache `worker.models` fills), picks the device,
and exposes `run(...)`. Progress goes through `Progress`; a cooperative cancel check raises `Canceled`.
Bad parameters raise ValueError naming the allowed values; a missing cache raises models.ModelsMissing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

from PIL import Image


@dataclass
class Progress:
    step: int
    total: int
    losses: dict[str, float] = field(default_factory=dict)
    preview: Optional[Image.Image] = None  # set on snapshot steps only


class Canceled(Exception):
    """The run stopped because should_cancel() said so."""


OnProgress = Callable[[Progress], None]
ShouldCancel = Callable[[], bool]
