"""A stand-in for worker.engines.{gatys,fast,portrait} in unit tests: same keyword surface, no torch.

Behaviour is set through module globals by each test (reset by the fixture): how many steps, what to raise.
Every call is recorded in CALLS so a test can check what the task passed.
"""
from __future__ import annotations

from PIL import Image

from worker.engines import Canceled, Progress

STEPS = 3
RAISE: list[BaseException] = []  # raised by successive calls, in order (then calls succeed)
CALLS: list[dict] = []
HOOK = None  # called with the step number, e.g. to cancel mid-run


def reset():
    global STEPS, HOOK
    STEPS, HOOK = 3, None
    RAISE.clear()
    CALLS.clear()


DEFAULTS = {"steps": 100, "content_weight": 1.0, "style_weight": 10.0, "tv_weight": 10.0, "init": "content",
            "style_scale": 1.0, "seed": 0, "preserve_color": False}


def defaults() -> dict:
    return dict(DEFAULTS)


def run(*args, size=512, on_progress=None, should_cancel=None, **kw):
    CALLS.append({"args": args, "size": size, **kw})
    if RAISE:
        raise RAISE.pop(0)
    out = Image.new("RGB", (size, size * 3 // 4), (200, 30, 90))
    for step in range(1, STEPS + 1):
        if HOOK:
            HOOK(step)
        if should_cancel and should_cancel():
            raise Canceled()
        if on_progress:
            on_progress(Progress(step, STEPS, {"total": 1.0 / step}, out if step == 1 else None))
    return out
